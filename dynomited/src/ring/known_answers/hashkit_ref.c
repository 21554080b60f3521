/*
 * Reference model of Dynomite v0.8's key hash functions (src/hashkit/), written for
 * dynomite-rs's known-answer tests. Each function follows the published algorithm and the
 * C types Dynomite uses, so the compiler reproduces its quirks: one_at_a_time reads the key
 * through a plain (signed on x86) `char *`; crc16 keeps a 32-bit accumulator without a 16-bit
 * mask; crc32 keeps 15 bits of the CRC; fnv1a_64 runs in 32 bits with truncated constants;
 * murmur (MurmurHash2) is seeded with 0xdeadbeef * len. md5 is left to Python's hashlib.
 *
 * Input: one key per line on stdin, as hex ("" for the empty key).
 * Output: per key, the hex key then 12 decimal hashes in this order:
 *   one_at_a_time crc16 crc32 crc32a fnv1_64 fnv1a_64 fnv1_32 fnv1a_32 hsieh murmur jenkins murmur3
 * Build: gcc -O1 -Wall -o /tmp/hashkit_ref hashkit_ref.c   (x86-64 or any little-endian target
 * where `char` is signed, as on the machines Dynomite runs on)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Jenkins one-at-a-time, bytes widened from plain char. */
static uint32_t h_one_at_a_time(const char *key, size_t n) {
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)key[i];
        h += v;
        h += h << 10;
        h ^= h >> 6;
    }
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}

/* CRC-16/XMODEM table generated from the polynomial 0x1021 (MSB first). */
static uint16_t crc16_table[256];
static void crc16_init(void) {
    for (int i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        crc16_table[i] = c;
    }
}
static uint32_t h_crc16(const char *key, size_t n) {
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) crc = (crc << 8) ^ crc16_table[((crc >> 8) ^ key[i]) & 0xff];
    return crc;
}

/* Reflected CRC-32 (polynomial 0xEDB88320). */
static uint32_t crc32_table[256];
static void crc32_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc32_table[i] = c;
    }
}
static uint32_t crc32_raw(const unsigned char *key, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = (crc >> 8) ^ crc32_table[(crc ^ key[i]) & 0xff];
    return crc;
}
static uint32_t h_crc32(const unsigned char *key, size_t n) { return ((~crc32_raw(key, n)) >> 16) & 0x7fff; }
static uint32_t h_crc32a(const unsigned char *key, size_t n) { return crc32_raw(key, n) ^ 0xFFFFFFFFu; }

static uint32_t h_fnv1_64(const unsigned char *key, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) { h *= 0x100000001b3ull; h ^= (uint64_t)key[i]; }
    return (uint32_t)h;
}
static uint32_t h_fnv1a_64(const unsigned char *key, size_t n) {
    uint32_t h = (uint32_t)0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) { h ^= (uint32_t)key[i]; h *= (uint32_t)0x100000001b3ull; }
    return h;
}
static uint32_t h_fnv1_32(const unsigned char *key, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h *= 16777619u; h ^= (uint32_t)key[i]; }
    return h;
}
static uint32_t h_fnv1a_32(const unsigned char *key, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (uint32_t)key[i]; h *= 16777619u; }
    return h;
}

/* Paul Hsieh's SuperFastHash as in Dynomite: initial hash 0, unsigned bytes, empty key -> 0. */
static uint32_t get16(const unsigned char *p) { return ((uint32_t)p[1] << 8) + (uint32_t)p[0]; }
static uint32_t h_hsieh(const unsigned char *key, size_t n) {
    uint32_t hash = 0, tmp;
    if (n == 0) return 0;
    size_t rem = n & 3;
    for (size_t blocks = n >> 2; blocks > 0; blocks--) {
        hash += get16(key);
        tmp = (get16(key + 2) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        key += 4;
        hash += hash >> 11;
    }
    if (rem == 3) {
        hash += get16(key);
        hash ^= hash << 16;
        hash ^= (uint32_t)key[2] << 18;
        hash += hash >> 11;
    } else if (rem == 2) {
        hash += get16(key);
        hash ^= hash << 11;
        hash += hash >> 17;
    } else if (rem == 1) {
        hash += key[0];
        hash ^= hash << 10;
        hash += hash >> 1;
    }
    hash ^= hash << 3;
    hash += hash >> 5;
    hash ^= hash << 4;
    hash += hash >> 17;
    hash ^= hash << 25;
    hash += hash >> 6;
    return hash;
}

/* MurmurHash2 (32-bit) with Dynomite's seed. */
static uint32_t h_murmur(const unsigned char *key, size_t n) {
    const uint32_t m = 0x5bd1e995;
    uint32_t h = (0xdeadbeefu * (uint32_t)n) ^ (uint32_t)n;
    while (n >= 4) {
        uint32_t k = le32(key);
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
        key += 4;
        n -= 4;
    }
    if (n >= 3) h ^= (uint32_t)key[2] << 16;
    if (n >= 2) h ^= (uint32_t)key[1] << 8;
    if (n >= 1) { h ^= key[0]; h *= m; }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* Bob Jenkins' lookup3 hashlittle(key, len, 13), byte-at-a-time form; empty key -> 0. */
#define MIX(a, b, c) { \
    a -= c; a ^= rotl32(c, 4);  c += b; \
    b -= a; b ^= rotl32(a, 6);  a += c; \
    c -= b; c ^= rotl32(b, 8);  b += a; \
    a -= c; a ^= rotl32(c, 16); c += b; \
    b -= a; b ^= rotl32(a, 19); a += c; \
    c -= b; c ^= rotl32(b, 4);  b += a; }
#define FINAL(a, b, c) { \
    c ^= b; c -= rotl32(b, 14); \
    a ^= c; a -= rotl32(c, 11); \
    b ^= a; b -= rotl32(a, 25); \
    c ^= b; c -= rotl32(b, 16); \
    a ^= c; a -= rotl32(c, 4);  \
    b ^= a; b -= rotl32(a, 14); \
    c ^= b; c -= rotl32(b, 24); }
static uint32_t h_jenkins(const unsigned char *k, size_t n) {
    if (n == 0) return 0;
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)n + 13u;
    while (n > 12) {
        a += le32(k);
        b += le32(k + 4);
        c += le32(k + 8);
        MIX(a, b, c);
        n -= 12;
        k += 12;
    }
    unsigned char last[12] = {0};
    memcpy(last, k, n);
    a += le32(last);
    b += le32(last + 4);
    c += le32(last + 8);
    FINAL(a, b, c);
    return c;
}

/* MurmurHash3_x86_32 with seed 0. */
static uint32_t h_murmur3(const unsigned char *key, size_t n) {
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = 0;
    size_t blocks = n / 4;
    for (size_t i = 0; i < blocks; i++) {
        uint32_t k = le32(key + 4 * i);
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64;
    }
    const unsigned char *tail = key + 4 * blocks;
    uint32_t k = 0;
    switch (n & 3) {
    case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1: k ^= tail[0]; k *= c1; k = rotl32(k, 15); k *= c2; h ^= k;
    }
    h ^= (uint32_t)n;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(void) {
    static char line[1 << 16];
    static char key[1 << 15];
    crc16_init();
    crc32_init();
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len % 2) { fprintf(stderr, "odd hex length\n"); return 2; }
        size_t n = len / 2;
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
            if (hi < 0 || lo < 0) { fprintf(stderr, "bad hex\n"); return 2; }
            key[i] = (char)(hi * 16 + lo);
        }
        const unsigned char *u = (const unsigned char *)key;
        printf("%s %u %u %u %u %u %u %u %u %u %u %u %u\n", line[0] ? line : "-",
               h_one_at_a_time(key, n), h_crc16(key, n), h_crc32(u, n), h_crc32a(u, n),
               h_fnv1_64(u, n), h_fnv1a_64(u, n), h_fnv1_32(u, n), h_fnv1a_32(u, n),
               h_hsieh(u, n), h_murmur(u, n), h_jenkins(u, n), h_murmur3(u, n));
    }
    return 0;
}
