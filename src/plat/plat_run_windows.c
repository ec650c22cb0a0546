/* plat_run_windows.c - plat_run.h for Windows: CreateProcessW (no console window) with
 * stdout on a pipe. Anonymous pipes cannot be read with a timeout, so the read end is a
 * named pipe opened for overlapped I/O and every read waits on its event with what is
 * left of one deadline; a child still running then is ended with TerminateProcess. Only
 * the three standard handles are inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), so no
 * other handle of ours leaks into the child. */
#include "plat/plat_run.h"

#include "plat/clock.h"
#include "plat/wtext_windows.h"

#include "plat/plat_argv.h"

#include <windows.h>

#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_BUF_BYTES 65536

static DWORD left_ms(int64_t deadline)
{
    int64_t now = plat_mono_ms();
    return now >= deadline ? 0 : (DWORD)(deadline - now);
}

/* The read end (overlapped, ours) and the write end (inheritable, the child's stdout)
 * of a fresh pipe with a name no other process can have opened first. */
static int make_pipe(HANDLE *rd, HANDLE *wr)
{
    static LONG seq;
    wchar_t name[96];
    swprintf(name, sizeof name / sizeof name[0], L"\\\\.\\pipe\\sonota-run-%lu-%ld",
             (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&seq));
    *rd = CreateNamedPipeW(name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED |
                           FILE_FLAG_FIRST_PIPE_INSTANCE,
                           PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 0,
                           PIPE_BUF_BYTES, 0, NULL);
    if (*rd == INVALID_HANDLE_VALUE)
        return -1;
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    *wr = CreateFileW(name, GENERIC_WRITE, 0, &sa, OPEN_EXISTING, 0, NULL);
    if (*wr == INVALID_HANDLE_VALUE) {
        CloseHandle(*rd);
        return -1;
    }
    return 0;
}

static HANDLE open_nul(DWORD access)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    return CreateFileW(L"NUL", access, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                       OPEN_EXISTING, 0, NULL);
}

/* Starts cmdline with stdin/stderr on NUL and stdout on wr, inheriting only those. */
static int start(const wchar_t *app, wchar_t *cmdline, HANDLE wr, PROCESS_INFORMATION *pi)
{
    HANDLE in = open_nul(GENERIC_READ), err = open_nul(GENERIC_WRITE);
    int ok = 0;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
    SIZE_T asz = 0;
    if (in == INVALID_HANDLE_VALUE || err == INVALID_HANDLE_VALUE)
        goto out;
    InitializeProcThreadAttributeList(NULL, 1, 0, &asz);
    attrs = malloc(asz);
    if (!attrs || !InitializeProcThreadAttributeList(attrs, 1, 0, &asz)) {
        free(attrs);
        attrs = NULL;
        goto out;
    }
    HANDLE inherit[3] = {in, wr, err};
    if (UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit,
                                  sizeof inherit, NULL, NULL)) {
        STARTUPINFOEXW si;
        memset(&si, 0, sizeof si);
        si.StartupInfo.cb = sizeof si;
        si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
        si.StartupInfo.hStdInput = in;
        si.StartupInfo.hStdOutput = wr;
        si.StartupInfo.hStdError = err;
        si.lpAttributeList = attrs;
        ok = CreateProcessW(app, cmdline, NULL, NULL, TRUE,
                            CREATE_NO_WINDOW | EXTENDED_STARTUPINFO_PRESENT, NULL, NULL,
                            &si.StartupInfo, pi) != 0;
    }
    DeleteProcThreadAttributeList(attrs);
    free(attrs);
out:
    if (in != INVALID_HANDLE_VALUE)
        CloseHandle(in);
    if (err != INVALID_HANDLE_VALUE)
        CloseHandle(err);
    return ok ? 0 : -1;
}

/* Reads rd until EOF (every write end closed) or the deadline, keeping up to cap bytes.
 * Returns 0 at EOF, 1 on timeout, -1 on an error. */
static int drain(HANDLE rd, int64_t deadline, char *buf, size_t cap, size_t *len)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ov.hEvent)
        return -1;
    int rc;
    for (;;) {
        char tmp[4096];
        DWORD got = 0;
        ResetEvent(ov.hEvent);
        if (!ReadFile(rd, tmp, sizeof tmp, NULL, &ov)) {
            DWORD e = GetLastError();
            if (e != ERROR_IO_PENDING) {
                rc = e == ERROR_BROKEN_PIPE ? 0 : -1;
                break;
            }
        }
        if (WaitForSingleObject(ov.hEvent, left_ms(deadline)) != WAIT_OBJECT_0) {
            CancelIo(rd);
            GetOverlappedResult(rd, &ov, &got, TRUE); /* the buffer is ours again */
            rc = 1;
            break;
        }
        if (!GetOverlappedResult(rd, &ov, &got, FALSE)) {
            rc = GetLastError() == ERROR_BROKEN_PIPE ? 0 : -1;
            break;
        }
        size_t take = got < cap - *len ? got : cap - *len;
        memcpy(buf + *len, tmp, take);
        *len += take;
    }
    CloseHandle(ov.hEvent);
    return rc;
}

int plat_run(const char *const argv[], unsigned timeout_ms, size_t cap, char **out)
{
    *out = NULL;
    int64_t deadline = plat_mono_ms() + timeout_ms;
    char *line = plat_win_cmdline(argv);
    wchar_t *wline = line ? plat_wide_dup(line) : NULL;
    wchar_t *app = line ? plat_wide_dup(argv[0]) : NULL;
    char *buf = malloc(cap + 1);
    HANDLE rd = INVALID_HANDLE_VALUE, wr = INVALID_HANDLE_VALUE;
    PROCESS_INFORMATION pi;
    memset(&pi, 0, sizeof pi);
    int rc = -1;
    free(line);
    if (!wline || !app || !buf || make_pipe(&rd, &wr) != 0)
        goto out;
    int started = start(app, wline, wr, &pi) == 0;
    CloseHandle(wr); /* the child's copy is the only one left: its exit means EOF */
    if (!started)
        goto out;
    CloseHandle(pi.hThread);
    size_t len = 0;
    int dr = drain(rd, deadline, buf, cap, &len);
    DWORD code = 0;
    if (WaitForSingleObject(pi.hProcess, dr == 0 ? left_ms(deadline) : 0) != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 1);
        WaitForSingleObject(pi.hProcess, INFINITE);
    } else if (dr == 0 && GetExitCodeProcess(pi.hProcess, &code) && code <= INT_MAX) {
        buf[len] = '\0';
        *out = buf;
        buf = NULL;
        rc = (int)code;
    }
    CloseHandle(pi.hProcess);
out:
    if (rd != INVALID_HANDLE_VALUE)
        CloseHandle(rd);
    free(buf);
    free(wline);
    free(app);
    return rc;
}
