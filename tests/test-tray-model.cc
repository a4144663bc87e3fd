// test-tray-model.cc — PorchTrayModel (gui/tray-model.h), porch-tray's state, on its own: no
// display, no network. Transfers and print operations as the model keeps them, the signals
// and notifications observers get, closing, and the wait for worker tasks: it returns when
// the last one completes (GTask completions on the main context), and when it gives up, the
// stragglers still find the model.
#include <gtest/gtest.h>

#include <string>

#include "tray-model.h"

namespace
{

struct Notes {
    int transfers_running = 0, workers = 0, closing = 0;
};

void
OnNotify(GObject *, GParamSpec *pspec, gpointer data)
{
    auto *notes = static_cast<Notes *>(data);
    std::string name = g_param_spec_get_name(pspec);
    if (name == "transfers-running")
        notes->transfers_running++;
    else if (name == "workers")
        notes->workers++;
    else if (name == "closing")
        notes->closing++;
}

class TrayModelTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        model_ = porch_tray_model_new(nullptr);
        g_signal_connect(model_, "notify", G_CALLBACK(OnNotify), &notes_);
    }
    void TearDown() override
    {
        g_clear_object(&model_);
    }

    PorchTrayModel *model_ = nullptr;
    Notes notes_;
};

TEST_F(TrayModelTest, ATransferRunsThenEndsAndObserversAreTold)
{
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    guint id = porch_tray_model_transfer_add(model_, "x.bin from Alice", "/tmp/x.bin", cancellable);
    EXPECT_GT(id, 0u);
    EXPECT_EQ(porch_tray_model_get_transfers_running(model_), 1u);
    EXPECT_EQ(notes_.transfers_running, 1);
    EXPECT_TRUE(porch_tray_model_transfer_is_running(model_, id));

    PorchTrayTransferState state = PORCH_TRAY_TRANSFER_DONE;
    g_autofree char *dest = nullptr, *status = nullptr;
    guint64 done = 1;
    ASSERT_TRUE(porch_tray_model_transfer_get(model_, id, &state, &dest, &status, &done));
    EXPECT_EQ(state, PORCH_TRAY_TRANSFER_RUNNING);
    EXPECT_STREQ(dest, "/tmp/x.bin");
    EXPECT_STREQ(status, "Connecting…");
    EXPECT_EQ(done, 0u);

    porch_tray_model_transfer_progress(model_, id, 250, "1.0 MB/s", "0:01 left", "1 of 2", 10, 20);
    GtkTreeModel *rows = GTK_TREE_MODEL(porch_tray_model_get_transfers(model_));
    GtkTreeIter iter;
    ASSERT_TRUE(gtk_tree_model_get_iter_first(rows, &iter));
    int percent = -1;
    gtk_tree_model_get(rows, &iter, PORCH_TRAY_TCOL_PERCENT, &percent, -1);
    EXPECT_EQ(percent, 100) << "clamped";

    porch_tray_model_transfer_cancel(model_, id);
    EXPECT_TRUE(g_cancellable_is_cancelled(cancellable));
    porch_tray_model_transfer_finish(model_, id, PORCH_TRAY_TRANSFER_CANCELLED, "Cancelled");
    EXPECT_EQ(porch_tray_model_get_transfers_running(model_), 0u);
    EXPECT_EQ(notes_.transfers_running, 2);
    EXPECT_FALSE(porch_tray_model_transfer_is_running(model_, id));
    gtk_tree_model_get(rows, &iter, PORCH_TRAY_TCOL_PERCENT, &percent, -1);
    EXPECT_EQ(percent, 0);
    ASSERT_TRUE(porch_tray_model_transfer_get(model_, id, &state, nullptr, nullptr, nullptr));
    EXPECT_EQ(state, PORCH_TRAY_TRANSFER_CANCELLED);
    // a late progress report of a transfer that ended changes nothing
    porch_tray_model_transfer_progress(model_, id, 50, "", "", "late", 1, 2);
    g_autofree char *after = nullptr;
    porch_tray_model_transfer_get(model_, id, nullptr, nullptr, &after, nullptr);
    EXPECT_STREQ(after, "Cancelled");
    EXPECT_FALSE(porch_tray_model_transfer_get(model_, id + 1, nullptr, nullptr, nullptr, nullptr));
}

TEST_F(TrayModelTest, PrintOperationsAreNumberedFromOneAndKept)
{
    guint a = porch_tray_model_print_add(model_, nullptr, nullptr);
    guint b = porch_tray_model_print_add(model_, "Office@Alice", nullptr);
    EXPECT_EQ(a, 1u);
    EXPECT_EQ(b, 2u);
    PorchTrayPrintState state = PORCH_TRAY_PRINT_DONE;
    g_autofree char *message = nullptr, *queue = nullptr;
    ASSERT_TRUE(porch_tray_model_print_get(model_, b, &state, &message, &queue));
    EXPECT_EQ(state, PORCH_TRAY_PRINT_RUNNING);
    EXPECT_EQ(message, nullptr);
    EXPECT_STREQ(queue, "Office@Alice");
    porch_tray_model_print_finish(model_, a, PORCH_TRAY_PRINT_FAILED, "not allowed");
    g_autofree char *why = nullptr;
    ASSERT_TRUE(porch_tray_model_print_get(model_, a, &state, &why, nullptr));
    EXPECT_EQ(state, PORCH_TRAY_PRINT_FAILED);
    EXPECT_STREQ(why, "not allowed");
    EXPECT_FALSE(porch_tray_model_print_get(model_, 3, nullptr, nullptr, nullptr));
}

TEST_F(TrayModelTest, ClosingCancelsWhatRunsAndSaysSo)
{
    g_autoptr(GCancellable) fetch = g_cancellable_new();
    g_autoptr(GCancellable) print = g_cancellable_new();
    g_autoptr(GCancellable) printed = g_cancellable_new();
    porch_tray_model_transfer_add(model_, "a", "/tmp/a", fetch);
    porch_tray_model_print_add(model_, nullptr, print);
    guint ended = porch_tray_model_print_add(model_, nullptr, printed);
    porch_tray_model_print_finish(model_, ended, PORCH_TRAY_PRINT_DONE, "job 1 on Office");

    EXPECT_FALSE(porch_tray_model_is_closing(model_));
    porch_tray_model_close(model_);
    EXPECT_TRUE(porch_tray_model_is_closing(model_));
    EXPECT_EQ(notes_.closing, 1);
    EXPECT_TRUE(g_cancellable_is_cancelled(fetch));
    EXPECT_TRUE(g_cancellable_is_cancelled(print));
    EXPECT_FALSE(g_cancellable_is_cancelled(printed)) << "an operation that ended is left alone";
    porch_tray_model_close(model_);
    EXPECT_EQ(notes_.closing, 1) << "once";
}

TEST_F(TrayModelTest, SettingsAreNotified)
{
    porch_tray_model_set_files(model_, "/k/me", "/k/known");
    EXPECT_STREQ(porch_tray_model_get_identity_file(model_), "/k/me");
    EXPECT_STREQ(porch_tray_model_get_known_peers(model_), "/k/known");
    porch_tray_model_set_connect_timeout(model_, -3);
    EXPECT_EQ(porch_tray_model_get_connect_timeout(model_), 0);
    g_object_set(model_, "connect-timeout", 6, nullptr);
    EXPECT_EQ(porch_tray_model_get_connect_timeout(model_), 6);
    porch_tray_model_set_browse_error(model_, "waiting for avahi-daemon (mDNS)");
    g_autofree char *error = nullptr;
    g_object_get(model_, "browse-error", &error, nullptr);
    EXPECT_STREQ(error, "waiting for avahi-daemon (mDNS)");
}

// A worker as porch-tray's: a GTask thread, counted, whose completion (on the main context)
// says it is done.
void
SleepThread(GTask *task, gpointer, gpointer data, GCancellable *)
{
    g_usleep(GPOINTER_TO_UINT(data) * 1000);
    g_task_return_boolean(task, TRUE);
}

void
WorkerDone(GObject *, GAsyncResult *, gpointer data)
{
    porch_tray_model_worker_done(PORCH_TRAY_MODEL(data));
}

void
StartWorker(PorchTrayModel *model, guint ms)
{
    porch_tray_model_worker_start(model);
    g_autoptr(GTask) task = g_task_new(nullptr, nullptr, WorkerDone, model);
    g_task_set_task_data(task, GUINT_TO_POINTER(ms), nullptr);
    g_task_run_in_thread(task, SleepThread);
}

TEST_F(TrayModelTest, WaitReturnsWhenTheLastWorkerCompletes)
{
    EXPECT_TRUE(porch_tray_model_wait_workers(model_, 10)) << "nothing to wait for";
    StartWorker(model_, 100);
    StartWorker(model_, 300);
    EXPECT_EQ(porch_tray_model_get_workers(model_), 2u);
    gint64 t0 = g_get_monotonic_time();
    EXPECT_TRUE(porch_tray_model_wait_workers(model_, 10));
    double s = (g_get_monotonic_time() - t0) / 1e6;
    EXPECT_EQ(porch_tray_model_get_workers(model_), 0u);
    EXPECT_GE(s, 0.25);
    EXPECT_LT(s, 5) << "woken by the completions, not by the time limit";
    EXPECT_EQ(notes_.workers, 4);
}

TEST_F(TrayModelTest, AWaitThatGivesUpLeavesTheModelToTheStragglers)
{
    StartWorker(model_, 2500);
    gint64 t0 = g_get_monotonic_time();
    EXPECT_FALSE(porch_tray_model_wait_workers(model_, 1));
    double s = (g_get_monotonic_time() - t0) / 1e6;
    EXPECT_GE(s, 0.9);
    EXPECT_LT(s, 2.4);
    EXPECT_EQ(porch_tray_model_get_workers(model_), 1u);

    // The owner lets go; the model stays until the straggler's completion has run.
    PorchTrayModel *model = model_;
    g_object_add_weak_pointer(G_OBJECT(model), (gpointer *)&model);
    g_clear_object(&model_);
    ASSERT_NE(model, nullptr);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (model != nullptr && g_get_monotonic_time() < end)
        g_main_context_iteration(nullptr, TRUE);
    EXPECT_EQ(model, nullptr) << "the last completion did not release the model";
}

} // namespace
