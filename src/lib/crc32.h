/* crc32.h - the CRC-32 variants ESP8266 images use (PROTOCOL.md §5). Pure. */
#ifndef SO_CRC32_H
#define SO_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* zlib-compatible crc32(crc, buf, len): reflected poly 0xEDB88320, pre/post inverted, so
 * so_crc32(0, "123456789", 9) == 0xCBF43926 and calls chain like zlib's. */
uint32_t so_crc32(uint32_t crc, const void *data, size_t len);

/* The v2 ("user1/user2") image CRC of §5 (esptool esp8266_crc32): c = crc32(0, data);
 * c & 0x80000000 ? c ^ 0xFFFFFFFF : c + 1. */
uint32_t so_crc32_esp8266(const void *data, size_t len);

/* The Arduino core's eboot CRC (elf2bin.py crc8266): MSB-first poly 0x04C11DB7, starting at
 * 0xFFFFFFFF, no final inversion (CRC-32/MPEG-2). Chain by passing the previous value;
 * start with SO_CRC32_MSB_INIT. */
#define SO_CRC32_MSB_INIT 0xFFFFFFFFu
uint32_t so_crc32_msb(uint32_t crc, const void *data, size_t len);

#endif
