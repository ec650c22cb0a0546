/* sonota - frees Sonoff switches from stock firmware over WiFi. Command dispatch only. */
#include "sonota/cmds.h"
#include "plat/net.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"flash", cmd_flash, "walk a stock device through OTA to new firmware (default)"},
    {"diy", cmd_diy, "discover and flash stock 3.x devices in DIY mode over their LAN API"},
    {"image", cmd_image, "inspect, validate, build and generate ESP8266 firmware images"},
    {"configure", cmd_configure, "give a freshly flashed Tasmota its MQTT settings and WiFi"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sonota [COMMAND] [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'sonota COMMAND --help' describes each command; "
               "options without a command (e.g. 'sonota --wifi-ssid S') run 'flash'.\n");
}

int main(int argc, char **argv)
{
    /* Nothing asked: the overview, and the usage status so a script notices (issue 12). */
    if (argc < 2) {
        usage(stdout);
        return EXIT_USAGE;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
                      !strcmp(argv[1], "help"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("sonota %s\n", SONOTA_VERSION);
        return EXIT_OK;
    }
    /* No openssl.cnf: a system one must not change what old devices need (TLS 1.0,
     * AES128-SHA), and on Windows its default place (C:/etc/ssl) is writable by any
     * user. The first init decides for the whole process, lws's included. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    if (plat_init() != 0) { /* Windows: no socket call works before WSAStartup */
        fprintf(stderr, "sonota: cannot start the network library (Winsock)\n");
        return EXIT_FAIL;
    }
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name))
                return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "sonota: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* Options but no subcommand: flash, with argv[0] standing in as the command name. */
    return cmd_flash(argc, argv);
}
