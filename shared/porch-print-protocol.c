/* porch-print-protocol.c — the job states of porchd's print commands by name. */
#include "porch-print-protocol.h"

#include <string.h>

static const char *const state_names[] = {
        [PORCH_PRINT_JOB_UNKNOWN] = "unknown", [PORCH_PRINT_JOB_PENDING] = "pending",
        [PORCH_PRINT_JOB_HELD] = "held",       [PORCH_PRINT_JOB_PROCESSING] = "processing",
        [PORCH_PRINT_JOB_STOPPED] = "stopped", [PORCH_PRINT_JOB_CANCELED] = "canceled",
        [PORCH_PRINT_JOB_ABORTED] = "aborted", [PORCH_PRINT_JOB_COMPLETED] = "completed",
};

const char *
porch_print_job_state_to_string(PorchPrintJobState state)
{
    if ((guint)state >= G_N_ELEMENTS(state_names))
        return state_names[PORCH_PRINT_JOB_UNKNOWN];
    return state_names[state];
}

PorchPrintJobState
porch_print_job_state_from_string(const char *name)
{
    for (guint i = 1; i < G_N_ELEMENTS(state_names); i++)
        if (strcmp(name, state_names[i]) == 0)
            return (PorchPrintJobState)i;
    return PORCH_PRINT_JOB_UNKNOWN;
}
