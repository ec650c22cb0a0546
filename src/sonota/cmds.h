/* cmds.h - entry points of sonota's subcommands (argv[0] is the subcommand). */
#ifndef SONOTA_CMDS_H
#define SONOTA_CMDS_H

/* Each returns the process exit status (see docs/sonota.1 EXIT STATUS). */
int cmd_image(int argc, char **argv);
int cmd_flash(int argc, char **argv);
int cmd_diy(int argc, char **argv);
int cmd_configure(int argc, char **argv);

/* Documented exit codes. */
enum sonota_exit {
    EXIT_OK = 0,
    EXIT_FAIL = 1,       /* the operation failed; the message says why and what next */
    EXIT_USAGE = 2,      /* bad command line */
    EXIT_INVALID = 3,    /* an image failed validation */
    EXIT_DEVICE = 4,     /* the device refused or misbehaved */
    EXIT_NETWORK = 5,    /* network setup problem (address, port, firewall) */
    EXIT_INTERRUPTED = 130,
};

#endif
