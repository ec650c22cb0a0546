/* text_esc.h - makes text that came from the network safe to print or log (issue 13,
 * item 4). A deviceid, model or header value may carry terminal escape sequences
 * ("\x1b]0;title\x07", "\x1b[2J"), a fake newline, bidi overrides or bytes that are
 * not UTF-8; printed raw they would rewrite the user's terminal or forge log lines.
 *
 * text_esc() copies valid printable UTF-8 (and, with TEXT_ESC_KEEP_NL, newlines) and
 * turns everything else into a visible escape:
 *   \n \r \t          newline, carriage return, tab
 *   \xNN              other C0 controls (ESC is \x1b), DEL, and each byte that is not
 *                     part of valid UTF-8 (stray continuation bytes, overlong forms,
 *                     surrogates, code points above U+10FFFF, cut sequences)
 *   \u0080..\u009f    C1 controls in their UTF-8 form (U+009B is a CSI for some terminals)
 *   \u202a..\u202e, \u2066..\u2069   bidi embeddings, overrides and isolates
 * A backslash is copied as it is: the output is for reading, not for decoding.
 *
 * text_esc_json() post-processes JSON text that cJSON printed (where control
 * characters below 0x20, quotes and backslashes are escaped already) so that it is
 * valid JSON (UTF-8 only) and safe on a terminal: DEL, C1 and bidi characters become
 * \u escapes (lossless), a byte that is not UTF-8 becomes the six characters \\xNN
 * (the text "\xNN" once decoded), raw C0 bytes \u00NN. Bytes >= 0x7F occur only
 * inside strings in cJSON's output, so the structure is unchanged.
 *
 * Both write at most cap bytes including the NUL (cap >= 1), never cut an escape or a
 * UTF-8 sequence, and return the output length; *cut (may be NULL) is set when the
 * input did not fit. TEXT_ESC_CAP(len) bytes always suffice. Pure: no I/O, no
 * allocation. */
#ifndef SO_TEXT_ESC_H
#define SO_TEXT_ESC_H

#include <stddef.h>

#define TEXT_ESC_KEEP_NL 1u     /* copy '\n' as it is (multi-line text we wrote) */

/* The worst-case output size (with the NUL) for len input bytes. */
#define TEXT_ESC_CAP(len) (6 * (len) + 1)

size_t text_esc(char *out, size_t cap, const char *in, size_t len, unsigned flags,
                int *cut);
size_t text_esc_json(char *out, size_t cap, const char *in, size_t len, int *cut);
/* Whether text_esc would change anything (the common clean case copies nothing). */
int text_esc_needed(const char *in, size_t len, unsigned flags);

#endif
