/* err.h - one numbered error enum for the whole project, and its sentences. */
#ifndef SO_ERR_H
#define SO_ERR_H

/* Values are stable: append new ones before SO_E__COUNT, inside your module's group. */
enum so_err {
    SO_OK = 0,
    SO_AGAIN,          /* parser needs more bytes */
    SO_E_NOMEM,
    SO_E_ARG,          /* caller passed something invalid */
    SO_E_TOOBIG,       /* input exceeds a named limit */
    SO_E_SYNTAX,       /* malformed input */
    SO_E_IO,
    /* firmware images (espimg) */
    SO_E_IMG_SHORT,
    SO_E_IMG_MAGIC,
    SO_E_IMG_SEGMENTS,
    SO_E_IMG_CHECKSUM,
    SO_E_IMG_CRC,
    SO_E_IMG_SLOT,
    SO_E_IMG_FLASH_MODE,
    SO_E_IMG_FLASH_SIZE,
    SO_E_IMG_FORMAT,
    SO_E_ELF,
    /* HTTP / WebSocket / messages */
    SO_E_HTTP_STATUS,
    SO_E_HTTP_HEADER,
    SO_E_RANGE,
    SO_E_WS_FRAME,
    SO_E_JSON,
    SO_E_MSG_FIELD,
    /* device answers */
    SO_E_DEV_REFUSED,
    SO_E_TIMEOUT,
    SO_E_TLS,
    /* HTTP client (sonota/httpc) */
    SO_E_NET_UNREACHABLE,  /* refused, no route, unknown host */
    SO_E_NET_EMPTY,        /* closed without a byte of answer */
    SO_E_NET_BROKEN,       /* closed or failed in the middle of the exchange */
    SO_E_NET_REPLY_TOOBIG, /* the answer outgrew the caller's limit: transfer aborted */
    SO_E_NET,              /* any other transport failure */
    SO_E__COUNT
};

/* A short sentence for the code; never NULL. */
const char *so_strerror(enum so_err e);

#endif
