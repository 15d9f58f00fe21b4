#pragma once
// A Sink for tests: records every delivered record, can fail the first N
// deliveries with a chosen status, and can acknowledge from its own thread
// after a delay (to exercise backpressure).
//
// It enforces the Sink contract that send() is never called concurrently
// with itself: two overlapping send() calls abort the test binary (a Catch2
// assertion is not safe from the pipeline's threads), naming the violation.
// `send_hold` keeps each send() open a while so that overlaps are caught
// even when the calls are short.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/sink.h"

namespace logship::testing {

class FakeSink final : public Sink {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<std::string> records;  // delivered (acknowledged) records, in order
    int fail_first = 0;                // deliveries to fail before succeeding
    DeliveryStatus fail_status = DeliveryStatus::kRetry;
    std::chrono::milliseconds delay{0};
    std::atomic<int> sends{0};
    std::chrono::microseconds send_hold{0};  // time each send() stays open
    bool abort_on_overlap = true;            // false: only count (to test the check itself)
    std::atomic<int> overlapping_sends{0};
  };

  explicit FakeSink(Shared& shared) : s_(shared) {}
  ~FakeSink() override { stop(); }

  std::string_view name() const override { return "fake"; }

  Result<void> start(DeliveryListener& listener) override {
    listener_ = &listener;
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void send(BatchPtr batch) override {
    if (in_send_.exchange(true)) {
      s_.overlapping_sends.fetch_add(1);
      if (s_.abort_on_overlap) {
        std::fprintf(stderr, "FakeSink: send() called while another send() is running (Sink contract)\n");
        std::abort();
      }
    }
    if (s_.send_hold.count() > 0) std::this_thread::sleep_for(s_.send_hold);
    s_.sends.fetch_add(1);
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(batch));
    }
    cv_.notify_one();
    in_send_.store(false);
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      BatchPtr b;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        b = std::move(queue_.front());
        queue_.pop_front();
      }
      if (s_.delay.count() > 0) std::this_thread::sleep_for(s_.delay);
      DeliveryStatus status = DeliveryStatus::kOk;
      {
        std::lock_guard lock(s_.mu);
        if (s_.fail_first > 0) {
          --s_.fail_first;
          status = s_.fail_status;
        } else {
          for (size_t i = 0; i < b->record_count(); ++i) s_.records.emplace_back(b->record(i));
        }
      }
      listener_->on_delivered(std::move(b), status, status == DeliveryStatus::kOk ? "" : "injected failure");
    }
  }

  Shared& s_;
  std::atomic<bool> in_send_{false};
  DeliveryListener* listener_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchPtr> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace logship::testing
