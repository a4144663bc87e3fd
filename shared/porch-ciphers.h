/* porch-ciphers.h — the SSH cipher order, chosen for the CPU it runs on.
 *
 * AES-GCM is the fastest SSH cipher where the CPU has AES instructions (and carry-less
 * multiplication for GHASH); without them it is several times slower than
 * chacha20-poly1305, which needs nothing but plain arithmetic. Both porchd (its libssh bind
 * options) and porch (its client options) put first the one that suits the CPU.
 *
 * PORCH_CIPHERS in the environment overrides the detection: "aes" puts AES-GCM first,
 * "chacha20" puts chacha20-poly1305 first, "" or "auto" detects; any other value is ignored
 * with a warning. bench-transfer uses it to measure both orders on one machine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PORCH_CIPHERS_ENV "PORCH_CIPHERS"

typedef enum {
    PORCH_CIPHER_ORDER_AES,    /* aes128-gcm, aes256-gcm, chacha20-poly1305 */
    PORCH_CIPHER_ORDER_CHACHA, /* chacha20-poly1305, aes128-gcm, aes256-gcm */
} PorchCipherOrder;

/* TRUE when this CPU has AES and carry-less multiply instructions that OpenSSL's AES-GCM
 * uses: on x86 CPUID's AES and PCLMUL bits (__builtin_cpu_supports), on arm64 the
 * kernel's HWCAP_AES and HWCAP_PMULL (getauxval(AT_HWCAP)); FALSE elsewhere. */
gboolean porch_cpu_has_aes(void);

/* The order for @override (the value of PORCH_CIPHERS, or NULL) on a CPU that has AES
 * instructions or not. *ret_invalid (if given) is set to TRUE when @override was neither
 * "", "auto", "aes" nor "chacha20" (it is then ignored). */
PorchCipherOrder porch_cipher_order_pick(const char *override, gboolean cpu_has_aes,
                                         gboolean *ret_invalid);

/* The order on this machine: porch_cipher_order_pick() with PORCH_CIPHERS and the CPU. */
PorchCipherOrder porch_cipher_order(void);

/* The SSH cipher list (comma-separated, for libssh's options) of @order. With
 * @with_ctr, aes128-ctr and aes256-ctr follow (porchd still accepts them, with an ETM MAC,
 * from clients without AEAD ciphers); porch asks for AEAD ciphers only. */
const char *porch_cipher_list(PorchCipherOrder order, gboolean with_ctr);

G_END_DECLS
