#include "proxy/splice_pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace shadowai {

namespace {

void closePipe(const SplicePipe& pipe) {
  ::close(pipe.readEnd);
  ::close(pipe.writeEnd);
}

}  // namespace

PipeLease& PipeLease::operator=(PipeLease&& other) noexcept {
  if (this != &other) {
    giveBack(/*empty=*/false);
    pool_ = std::exchange(other.pool_, nullptr);
    pipe_ = std::exchange(other.pipe_, {});
  }
  return *this;
}

void PipeLease::giveBack(bool empty) {
  if (pool_ == nullptr) return;
  std::exchange(pool_, nullptr)->giveBack(std::exchange(pipe_, {}), empty);
}

SplicePipePool::~SplicePipePool() {
  for (const SplicePipe& pipe : idle_) closePipe(pipe);
}

PipeLease SplicePipePool::borrow() {
  if (inUse_ >= limits_.maxInUse) return {};
  SplicePipe pipe;
  if (!idle_.empty()) {
    pipe = idle_.back();
    idle_.pop_back();
  } else {
    int ends[2];
    if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) return {};
    pipe = SplicePipe{ends[0], ends[1]};
    // A larger pipe moves a bulk transfer in fewer splices. Best effort: over
    // /proc/sys/fs/pipe-max-size, or past the user's pipe-user-pages-soft, the kernel refuses and
    // the default size serves.
    ::fcntl(pipe.writeEnd, F_SETPIPE_SZ, static_cast<int>(limits_.pipeBytes));
  }
  ++inUse_;
  ++lentTotal_;
  return PipeLease(this, pipe);
}

void SplicePipePool::giveBack(SplicePipe pipe, bool empty) {
  --inUse_;
  if (empty && idle_.size() < limits_.maxIdle) {
    idle_.push_back(pipe);
  } else {
    closePipe(pipe);
  }
}

}  // namespace shadowai
