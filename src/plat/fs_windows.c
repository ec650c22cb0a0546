/* fs_windows.c - plat/fs.h on Windows: UTF-8 paths become UTF-16 for the wide calls;
 * files are opened in binary mode (no CRLF translation of images and state) and not
 * inherited by child processes ("N"). */
#include "plat/fs.h"
#include "plat/wtext_windows.h"

#include <errno.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>

#define WPATH_MAX 4096

static int errno_of(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION: return EACCES;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS: return EEXIST;
    case ERROR_DISK_FULL: return ENOSPC;
    default: return EIO;
    }
}

static FILE *wopen(const char *path, const wchar_t *mode)
{
    wchar_t w[WPATH_MAX];
    return plat_wide_from_utf8(path, w, WPATH_MAX) != 0 ? NULL : _wfopen(w, mode);
}

FILE *plat_fopen_read(const char *path)
{
    return wopen(path, L"rbN");
}

int plat_file_size(FILE *f, uint64_t *size)
{
    struct _stat64 st;
    if (_fstat64(_fileno(f), &st) != 0)
        return -1;
    if (!(st.st_mode & _S_IFREG)) {
        errno = (st.st_mode & _S_IFDIR) ? EISDIR : EINVAL;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

FILE *plat_fopen_private_append(const char *path)
{
    /* the file inherits the ACL of its folder (%LOCALAPPDATA% is the user's own) */
    return wopen(path, L"abN");
}

int plat_file_replace(const char *path, const void *data, size_t len, int mode)
{
    (void)mode;
    wchar_t w[WPATH_MAX], tmp[WPATH_MAX + 16];
    if (plat_wide_from_utf8(path, w, WPATH_MAX) != 0)
        return -1;
    _snwprintf(tmp, sizeof tmp / sizeof tmp[0], L"%ls.tmp%lu", w, GetCurrentProcessId());
    tmp[sizeof tmp / sizeof tmp[0] - 1] = L'\0';
    HANDLE h = CreateFileW(tmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        errno = errno_of(GetLastError());
        return -1;
    }
    const unsigned char *p = data;
    size_t done = 0;
    int ok = 1;
    while (ok && done < len) {
        DWORD chunk = len - done > (1u << 30) ? (1u << 30) : (DWORD)(len - done), wrote = 0;
        ok = WriteFile(h, p + done, chunk, &wrote, NULL) && wrote > 0;
        done += wrote;
    }
    ok = ok && FlushFileBuffers(h);
    DWORD e = ok ? 0 : GetLastError();
    CloseHandle(h);
    if (ok && !MoveFileExW(tmp, w, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        ok = 0;
        e = GetLastError();
    }
    if (!ok) {
        DeleteFileW(tmp);
        errno = errno_of(e);
        return -1;
    }
    return 0;
}

int plat_mkdir_private(const char *dir)
{
    wchar_t w[WPATH_MAX];
    if (plat_wide_from_utf8(dir, w, WPATH_MAX) != 0)
        return -1;
    if (CreateDirectoryW(w, NULL))
        return 0;
    errno = errno_of(GetLastError());
    return -1;
}

void plat_wipe(void *p, size_t n)
{
    SecureZeroMemory(p, n);
}
