#include "io/prompt.h"

#include "lib/wifi_pw.h"
#include "plat/fs.h"
#include "plat/tty.h"

#include <stdio.h>
#include <string.h>

int prompt_available(void)
{
    return plat_tty_available();
}

static int ask(const char *question, char *buf, size_t cap, int secret)
{
    if (!buf || cap == 0)
        return -1;
    buf[0] = '\0';
    int rc = plat_tty_ask(question, buf, cap, secret);
    if (rc != 0)
        plat_wipe(buf, cap);
    return rc;
}

int prompt_line(const char *question, char *buf, size_t cap)
{
    return ask(question, buf, cap, 0) ? -1 : 0;
}

int prompt_wifi_password(const char *ssid, char *buf, size_t cap)
{
    char q[128];
    snprintf(q, sizeof q, "Password of \"%.32s\" (not shown): ", ssid ? ssid : "");
    for (int i = 0; i < PROMPT_PW_TRIES; i++) {
        int rc = ask(q, buf, cap, 1);
        if (rc == -1)
            return -1;
        enum wifi_pw_verdict v = rc == -2 ? WIFI_PW_LONG : wifi_pw_check(buf, strlen(buf));
        if (v == WIFI_PW_OK)
            return 0;
        if (v == WIFI_PW_OPEN) {
            char yn[8];
            if (ask("Empty: open network, no password? [y/N] ", yn, sizeof yn, 0) == -1)
                return -1;
            if (yn[0] == 'y' || yn[0] == 'Y')
                return 0;
            if (i + 1 < PROMPT_PW_TRIES)
                plat_tty_say("  Then type the password (8 to 63 characters).\n");
            continue;
        }
        plat_wipe(buf, cap);
        char why[200];
        snprintf(why, sizeof why, "  Not usable: %s.%s\n", wifi_pw_reason(v),
                 i + 1 < PROMPT_PW_TRIES ? " Try again." : "");
        plat_tty_say(why);
    }
    plat_wipe(buf, cap);
    return -2;
}
