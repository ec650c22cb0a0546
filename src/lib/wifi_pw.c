#include "lib/wifi_pw.h"

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

enum wifi_pw_verdict wifi_pw_check(const char *pw, size_t len)
{
    if (len == 0)
        return WIFI_PW_OPEN;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c == 0x7f)
            return WIFI_PW_CONTROL;
    }
    if (len < WIFI_PW_MIN)
        return WIFI_PW_SHORT;
    if (len <= WIFI_PW_PASSPHRASE_MAX)
        return WIFI_PW_OK;
    if (len > WIFI_PW_HEX_LEN)
        return WIFI_PW_LONG;
    for (size_t i = 0; i < len; i++)
        if (!is_hex(pw[i]))
            return WIFI_PW_NOT_HEX;
    return WIFI_PW_OK;
}

int wifi_pw_acceptable(enum wifi_pw_verdict v)
{
    return v == WIFI_PW_OK || v == WIFI_PW_OPEN;
}

const char *wifi_pw_reason(enum wifi_pw_verdict v)
{
    switch (v) {
    case WIFI_PW_OK:
    case WIFI_PW_OPEN:
        return "";
    case WIFI_PW_SHORT:
        return "too short: a WPA2 password has 8 to 63 characters";
    case WIFI_PW_LONG:
        return "too long: a WPA2 password has 8 to 63 characters (or is a key of 64 hex "
               "digits)";
    case WIFI_PW_NOT_HEX:
        return "64 characters must be a key of hex digits (0-9, a-f); a passphrase has at "
               "most 63 characters";
    case WIFI_PW_CONTROL:
        return "it contains a control character (a stray key such as Tab or an arrow?)";
    }
    return "not a WiFi password";
}
