#include <chrono>

#include "core/assert.h"
#include "core/platform/mutex.h"

namespace segsim::platform {

void CondVar::wait(UniqueLock& lock) {
  SEGSIM_ASSERT(lock.owns_lock(), "CondVar::wait needs a held lock");
  if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
    rt->condvar_wait(tag_, lock.mutex()->tag_);
    return;
  }
  // Wait on the std::mutex inside our Mutex; ownership stays with `lock`.
  // The wait releases and re-acquires the mutex: the same clock steps as unlock and lock.
  if (sync_clock::on()) [[unlikely]] sync_clock::releasing(lock.mutex()->clock_);
  std::unique_lock<std::mutex> native_lock(lock.mutex()->native_, std::adopt_lock);
  native_.wait(native_lock);
  native_lock.release();
  if (sync_clock::on()) [[unlikely]] sync_clock::acquired(lock.mutex()->clock_);
}

bool CondVar::wait_for_ns(UniqueLock& lock, std::int64_t timeout_ns) {
  SEGSIM_ASSERT(lock.owns_lock(), "CondVar::wait_for_ns needs a held lock");
  SEGSIM_ASSERT(timeout_ns >= 0, "negative timeout");
  if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
    return rt->condvar_wait_for(tag_, lock.mutex()->tag_, timeout_ns);
  }
  if (sync_clock::on()) [[unlikely]] sync_clock::releasing(lock.mutex()->clock_);
  std::unique_lock<std::mutex> native_lock(lock.mutex()->native_, std::adopt_lock);
  auto status = native_.wait_for(native_lock, std::chrono::nanoseconds(timeout_ns));
  native_lock.release();
  if (sync_clock::on()) [[unlikely]] sync_clock::acquired(lock.mutex()->clock_);
  return status == std::cv_status::no_timeout;
}

void CondVar::notify_one() {
  if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
    rt->condvar_notify(tag_, /*all=*/false);
  } else {
    native_.notify_one();
  }
}

void CondVar::notify_all() {
  if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
    rt->condvar_notify(tag_, /*all=*/true);
  } else {
    native_.notify_all();
  }
}

}  // namespace segsim::platform
