/* wtext_windows.h - UTF-8 <-> UTF-16 for the Windows files of the platform layer (and the
 * Windows firewall check): the rest of sonota speaks UTF-8, the wide APIs UTF-16. */
#ifndef SO_PLAT_WTEXT_WINDOWS_H
#define SO_PLAT_WTEXT_WINDOWS_H

#include <stddef.h>
#include <wchar.h>

/* UTF-16 w as UTF-8 in out; 0, or -1 with out "" when it does not fit (never cut
 * mid-character). */
int plat_utf8_from_wide(const wchar_t *w, char *out, size_t cap);
/* UTF-8 s as UTF-16 in out (cap wide characters); 0, or -1 with errno ENAMETOOLONG (too
 * long) or EINVAL (not UTF-8). */
int plat_wide_from_utf8(const char *s, wchar_t *out, int cap);
/* UTF-8 s as a malloc'd UTF-16 string; NULL when it is not UTF-8 or memory runs out. */
wchar_t *plat_wide_dup(const char *s);

#endif
