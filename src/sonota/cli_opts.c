/* cli_opts.c - the shared option rows' functions and environment (see cli_opts.h). */
#include "sonota/cli_opts.h"

#include "io/log.h"
#include "lib/wifi_pw.h"
#include "plat/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIFI_PW_RULE "8 to 63 characters (or 64 hex digits, or empty for an open network)"

int cli_opts_set_secret(char **dst, const char *v)
{
    cli_opts_free_secret(dst);
    if (!v)
        return 0;
    *dst = strdup(v);
    if (!*dst)
        return -1;
    so_log_add_secret(*dst);
    return 0;
}

void cli_opts_free_secret(char **dst)
{
    if (*dst) {
        plat_wipe(*dst, strlen(*dst));
        free(*dst);
        *dst = NULL;
    }
}

/* The secret into its field, then out of `ps` from now on (it was visible until here). */
static int take_secret(const struct opt_table_row *r, void *base, char *arg, char *err,
                       size_t errcap)
{
    if (cli_opts_set_secret((char **)((char *)base + r->off), arg) != 0) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    *(int *)((char *)base + r->off2) = 1;
    memset(arg, '*', strlen(arg));
    return 0;
}

int cli_opts_secret(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t errcap)
{
    return take_secret(r, base, arg, err, errcap);
}

int cli_opts_wifi_password(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t errcap)
{
    if (!wifi_pw_acceptable(wifi_pw_check(arg, strlen(arg)))) {
        snprintf(err, errcap, "--%s must be " WIFI_PW_RULE, r->name);
        return -1;
    }
    return take_secret(r, base, arg, err, errcap);
}

int cli_opts_ssid(const struct opt_table_row *r, void *base, char *arg, char *err,
                  size_t errcap)
{
    if (!*arg || strlen(arg) > CLI_SSID_MAX) {
        snprintf(err, errcap, "--%s must be 1 to %d bytes", r->name, CLI_SSID_MAX);
        return -1;
    }
    *(const char **)((char *)base + r->off) = arg;
    return 0;
}

int cli_opts_env_wifi_password(char **pw, char *err, size_t errcap)
{
    const char *env = getenv(CLI_ENV_WIFI_PASSWORD);
    if (*pw || !env)
        return 0;
    if (!wifi_pw_acceptable(wifi_pw_check(env, strlen(env)))) {
        snprintf(err, errcap, CLI_ENV_WIFI_PASSWORD " must hold 8 to 63 characters (or 64 "
                 "hex digits, or be empty for an open network)");
        return -1;
    }
    if (cli_opts_set_secret(pw, env) != 0) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    return 1;
}

int cli_opts_env_mqtt_password(char **pw, char *err, size_t errcap)
{
    const char *env = getenv(CLI_ENV_MQTT_PASSWORD);
    if (*pw || !env || !*env)
        return 0;
    if (cli_opts_set_secret(pw, env) != 0) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    return 0;
}

int cli_opts_env_no_color(void)
{
    const char *v = getenv("NO_COLOR"); /* no-color.org: only a non-empty value counts */
    return v && *v;
}
