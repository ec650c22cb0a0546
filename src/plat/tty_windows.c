/* tty_windows.c - plat/tty.h on the Windows console: CONIN$/CONOUT$ (the console even
 * when stdin/stdout are redirected), echo off by clearing ENABLE_ECHO_INPUT, input read
 * as UTF-16 with ReadConsoleW and turned into UTF-8. */
#include "plat/tty.h"

#include "plat/console.h"

#include <io.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

int plat_tty_available(void)
{
    return plat_isatty(stdin); /* a console, not merely a character device (NUL) */
}

static void put(HANDLE out, const char *s)
{
    /* UTF-8 to UTF-16: WriteConsoleW shows it whatever the console code page */
    wchar_t w[512];
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, w, (int)(sizeof w / sizeof w[0]));
    DWORD done;
    if (n > 1)
        WriteConsoleW(out, w, (DWORD)(n - 1), &done, NULL);
}

/* Reads up to '\n'; Ctrl-C ends ReadConsoleW with nothing read (the handler of
 * plat/intr.h sets the flag). */
static int read_line(HANDLE in, char *buf, size_t cap)
{
    size_t n = 0;
    int too_long = 0;
    for (;;) {
        wchar_t wc[2];
        DWORD got = 0;
        if (!ReadConsoleW(in, wc, 1, &got, NULL) || got == 0)
            return -1; /* Ctrl-C or the console went away: no half answer */
        if (wc[0] == L'\n')
            break;
        if (wc[0] == L'\r')
            continue;
        int units = 1;
        if (wc[0] >= 0xD800 && wc[0] <= 0xDBFF) { /* a surrogate pair: read its second half */
            if (!ReadConsoleW(in, wc + 1, 1, &got, NULL) || got == 0)
                return -1;
            units = 2;
        }
        char u8[4];
        int k = WideCharToMultiByte(CP_UTF8, 0, wc, units, u8, sizeof u8, NULL, NULL);
        if (k > 0 && n + (size_t)k < cap) {
            memcpy(buf + n, u8, (size_t)k);
            n += (size_t)k;
        } else if (k > 0) {
            too_long = 1;
        }
        SecureZeroMemory(u8, sizeof u8);
        SecureZeroMemory(wc, sizeof wc);
    }
    buf[n] = '\0';
    return too_long ? -2 : 0;
}

int plat_tty_ask(const char *question, char *buf, size_t cap, int secret)
{
    if (!plat_tty_available())
        return -1;
    HANDLE in = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    HANDLE out = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    int rc = -1;
    DWORD saved = 0;
    int restore = 0;
    if (in == INVALID_HANDLE_VALUE || out == INVALID_HANDLE_VALUE)
        goto done;
    if (secret) {
        if (!GetConsoleMode(in, &saved) ||
            !SetConsoleMode(in, (saved & ~(DWORD)ENABLE_ECHO_INPUT) | ENABLE_LINE_INPUT |
                                    ENABLE_PROCESSED_INPUT))
            goto done;
        restore = 1;
    }
    put(out, question);
    rc = read_line(in, buf, cap);
    if (restore) {
        SetConsoleMode(in, saved);
        put(out, "\n"); /* the user's Enter was not echoed */
    }
done:
    if (in != INVALID_HANDLE_VALUE)
        CloseHandle(in);
    if (out != INVALID_HANDLE_VALUE)
        CloseHandle(out);
    return rc;
}

void plat_tty_say(const char *text)
{
    HANDLE out = CreateFileW(L"CONOUT$", GENERIC_WRITE, FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                             0, NULL);
    if (out == INVALID_HANDLE_VALUE)
        return;
    put(out, text);
    CloseHandle(out);
}
