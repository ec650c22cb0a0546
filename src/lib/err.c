#include "lib/err.h"

const char *so_strerror(enum so_err e)
{
    /* No default: the compiler flags a code without a sentence. */
    switch (e) {
    case SO_OK: return "success";
    case SO_AGAIN: return "incomplete input, more bytes needed";
    case SO_E_NOMEM: return "out of memory";
    case SO_E_ARG: return "invalid argument";
    case SO_E_TOOBIG: return "input exceeds a size limit";
    case SO_E_SYNTAX: return "malformed input";
    case SO_E_IO: return "input/output error";
    case SO_E_IMG_SHORT: return "image is truncated";
    case SO_E_IMG_MAGIC: return "not an ESP8266 image (bad magic byte)";
    case SO_E_IMG_SEGMENTS: return "image segment table is invalid";
    case SO_E_IMG_CHECKSUM: return "image checksum does not match";
    case SO_E_IMG_CRC: return "image CRC32 does not match";
    case SO_E_IMG_SLOT: return "image is linked for the other OTA slot";
    case SO_E_IMG_FLASH_MODE: return "image flash mode is not DOUT";
    case SO_E_IMG_FLASH_SIZE: return "image flash size is not 1 MB";
    case SO_E_IMG_FORMAT: return "image has the wrong format for this use";
    case SO_E_ELF: return "not a usable ESP8266 ELF file";
    case SO_E_HTTP_STATUS: return "unexpected HTTP status";
    case SO_E_HTTP_HEADER: return "missing or invalid HTTP header";
    case SO_E_RANGE: return "invalid or unsatisfiable Range";
    case SO_E_WS_FRAME: return "invalid WebSocket frame";
    case SO_E_JSON: return "invalid JSON";
    case SO_E_MSG_FIELD: return "message lacks a required field";
    case SO_E_DEV_REFUSED: return "the device refused the request";
    case SO_E_TIMEOUT: return "timed out";
    case SO_E_TLS: return "TLS error";
    case SO_E_NET_UNREACHABLE: return "cannot connect (refused, no route or unknown host)";
    case SO_E_NET_EMPTY: return "the connection closed without an answer";
    case SO_E_NET_BROKEN: return "the connection broke before the answer was complete";
    case SO_E_NET_REPLY_TOOBIG: return "the answer is larger than allowed";
    case SO_E_NET: return "network error";
    case SO_E__COUNT: break;
    }
    return "unknown error";
}
