/* porch-ciphers.c — the SSH cipher order, chosen for the CPU (porch-ciphers.h). */
#include "porch-ciphers.h"

#include <string.h>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#define AES_FIRST    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"
#define CHACHA_FIRST "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com"
#define CTR          ",aes128-ctr,aes256-ctr"

gboolean
porch_cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
    unsigned long hwcap = getauxval(AT_HWCAP);
    return (hwcap & HWCAP_AES) && (hwcap & HWCAP_PMULL);
#else
    return FALSE;
#endif
}

PorchCipherOrder
porch_cipher_order_pick(const char *override, gboolean cpu_has_aes, gboolean *ret_invalid)
{
    if (ret_invalid != NULL)
        *ret_invalid = FALSE;
    if (override != NULL && strcmp(override, "aes") == 0)
        return PORCH_CIPHER_ORDER_AES;
    if (override != NULL && strcmp(override, "chacha20") == 0)
        return PORCH_CIPHER_ORDER_CHACHA;
    if (override != NULL && *override != '\0' && strcmp(override, "auto") != 0 &&
        ret_invalid != NULL)
        *ret_invalid = TRUE;
    return cpu_has_aes ? PORCH_CIPHER_ORDER_AES : PORCH_CIPHER_ORDER_CHACHA;
}

PorchCipherOrder
porch_cipher_order(void)
{
    const char *override = g_getenv(PORCH_CIPHERS_ENV);
    gboolean invalid;
    PorchCipherOrder order = porch_cipher_order_pick(override, porch_cpu_has_aes(), &invalid);

    if (invalid)
        g_warning("%s=%s is neither aes, chacha20 nor auto; ignored", PORCH_CIPHERS_ENV, override);
    return order;
}

const char *
porch_cipher_list(PorchCipherOrder order, gboolean with_ctr)
{
    if (order == PORCH_CIPHER_ORDER_AES)
        return with_ctr ? AES_FIRST CTR : AES_FIRST;
    return with_ctr ? CHACHA_FIRST CTR : CHACHA_FIRST;
}
