/* tasmota_cfg_util.c - checks and setup for tasmota_cfg (see tasmota_cfg.h): base URLs,
 * value checks before anything is sent, and the passwords' registration for redaction. */
#include "sonota/tasmota_cfg.h"

#include "io/log.h"
#include "plat/fs.h"

#include <stdio.h>
#include <string.h>

int tcfg_base_url(const char *in, char *out, size_t cap, char *err, size_t errcap)
{
    if (!in || !*in) {
        snprintf(err, errcap, "empty address");
        return -1;
    }
    const char *host = in;
    if (!strncmp(in, "http://", 7))
        host = in + 7;
    else if (strstr(in, "://")) {
        snprintf(err, errcap, "'%s': only http:// (Tasmota's web server is plain HTTP)", in);
        return -1;
    }
    size_t n = strlen(host);
    while (n && host[n - 1] == '/')
        n--;
    if (!n || strcspn(host, "/?#@ ") < n) {
        snprintf(err, errcap, "'%s' is not an address (IP or name, optional :port)", in);
        return -1;
    }
    if (n + 7 > cap - 1 || n + 7 > TCFG_URL_MAX) {
        snprintf(err, errcap, "'%s' is too long", in);
        return -1;
    }
    snprintf(out, cap, "http://%.*s", (int)n, host);
    return 0;
}

const char *tcfg_check(const struct tasmota_cfg *c, char *err, size_t errcap)
{
    const struct { const char *name, *v; int topic; } f[] = {
        {"--mqtt-host", c->mqtt_host, 0}, {"--mqtt-user", c->mqtt_user, 0},
        {"the MQTT password", c->mqtt_password, 0}, {"--topic", c->topic, 1},
        {"--hostname", c->hostname, 0},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].v)
            continue;
        const char *p = f[i].topic ? tasmota_topic_problem(f[i].v)
                                   : tasmota_value_problem(f[i].v);
        if (p) {
            snprintf(err, errcap, "%s %s", f[i].name, p);
            return err;
        }
    }
    char tmp[TASMOTA_CMND_MAX + 1];
    int n;
    enum so_err e = tasmota_backlog(c, 1, tmp, sizeof tmp, &n);
    if (e == SO_E_TOOBIG) {
        snprintf(err, errcap, "the Backlog would exceed %d commands or %d bytes: shorten "
                 "--tasmota-backlog", TASMOTA_BACKLOG_MAX, TASMOTA_CMND_MAX);
        return err;
    }
    if (e != SO_OK) {
        snprintf(err, errcap, "--tasmota-backlog holds a control character or a Backlog of "
                 "its own (list the commands, ';'-separated, without \"Backlog\")");
        return err;
    }
    return NULL;
}

void tcfg_add_secrets(const struct tasmota_cfg *c)
{
    const char *s[] = {c->wifi_password, c->mqtt_password, c->web_password};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (!s[i] || !*s[i])
            continue;
        so_log_add_secret(s[i]);
        char enc[3 * 128 + 1];
        if (tasmota_url_encode(s[i], enc, sizeof enc) == SO_OK && strcmp(enc, s[i]))
            so_log_add_secret(enc);
        plat_wipe(enc, sizeof enc);
    }
}
