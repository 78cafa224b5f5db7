// Per-output-port FIFOs with departure cycles, for components that route messages to many ports
// (crossbars, the partition fabric, controller multiplexers). A message leaves at its cycle, or later when
// the port's link has no credit (the component is woken when one frees). Cycles must not decrease within
// one port (callers compute them from monotone port-free times).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <vector>

#include "sim/error.hpp"
#include "sim/port.hpp"

namespace tilesim {

/// A FIFO on a circular buffer that grows by doubling and never gives memory back: no allocation per
/// element (a std::deque of ~64-byte messages allocates a chunk every 8 pushes).
template <class T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  const T& back() const { return buf_[(head_ + size_ - 1) & (buf_.size() - 1)]; }
  void push_back(T v) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = std::move(v);
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
  }

 private:
  void grow() {
    std::vector<T> bigger(buf_.empty() ? 8 : buf_.size() * 2);  // a power of two
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(buf_[(head_ + i) & (buf_.size() - 1)]);
    buf_.swap(bigger);
    head_ = 0;
  }
  std::vector<T> buf_;
  std::size_t head_ = 0, size_ = 0;
};

template <class M>
class OutputQueues {
 public:
  static constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

  void add_port(OutPort<M>* port) {
    ports_.push_back(port);
    queues_.emplace_back();
    blocked_.push_back(false);
  }
  std::size_t ports() const { return ports_.size(); }

  void push(std::size_t port, std::uint64_t cycle, M msg, Priority priority) {
    auto& q = queues_.at(port);
    if (!q.empty() && cycle < q.back().cycle) panic("OutputQueues: departure cycles decrease on port ", port);
    if (q.empty() && !blocked_[port]) due_.push({cycle, port});
    q.push_back({cycle, priority, std::move(msg)});
    ++size_;
  }

  /// A message due now: sent at once when nothing waits ahead of it on its port and the link has credit,
  /// queued otherwise. The same as push(port, now, ...) followed by drain(now) — per-link order and
  /// credits are what they would be — without storing the message.
  void send_now(std::size_t port, std::uint64_t now, M msg, Priority priority) {
    if (queues_[port].empty() && !blocked_[port] && ports_[port]->can_send()) {
      ports_[port]->send(std::move(msg), priority);
      return;
    }
    push(port, now, std::move(msg), priority);
  }

  /// Send what is due at `now`; returns the number of messages sent.
  std::size_t drain(std::uint64_t now) {
    std::size_t sent = 0;
    // Ports that found no credit last time retry first (a freed credit is what woke us).
    if (any_blocked_) {
      any_blocked_ = false;
      for (std::size_t p = 0; p < ports_.size(); ++p)
        if (blocked_[p]) {
          blocked_[p] = false;
          due_.push({queues_[p].front().cycle, p});
        }
    }
    while (!due_.empty() && due_.top().cycle <= now) {
      const std::size_t p = due_.top().port;
      due_.pop();
      auto& q = queues_[p];
      while (!q.empty() && q.front().cycle <= now) {
        if (!ports_[p]->can_send()) {
          blocked_[p] = true;
          any_blocked_ = true;
          break;
        }
        ports_[p]->send(std::move(q.front().msg), q.front().priority);
        q.pop_front();
        --size_;
        ++sent;
      }
      if (!q.empty() && !blocked_[p]) due_.push({q.front().cycle, p});
    }
    return sent;
  }

  /// Earliest departure cycle of a port not waiting for credit; kNone when there is none.
  std::uint64_t next_cycle() const { return due_.empty() ? kNone : due_.top().cycle; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  bool any_blocked() const { return any_blocked_; }

 private:
  struct Item {
    std::uint64_t cycle;
    Priority priority;
    M msg;
  };
  struct Due {
    std::uint64_t cycle;
    std::size_t port;
    bool operator>(const Due& o) const { return cycle != o.cycle ? cycle > o.cycle : port > o.port; }
  };
  std::vector<OutPort<M>*> ports_;
  std::vector<RingQueue<Item>> queues_;
  std::vector<bool> blocked_;
  bool any_blocked_ = false;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::size_t size_ = 0;
};

/// Items kept in place and named by a small slot index, so that queues and heaps order 4-byte slots instead
/// of moving whole messages; freed slots are reused.
template <class T>
class SlotPool {
 public:
  std::uint32_t put(T item) {
    if (free_.empty()) {
      items_.push_back(std::move(item));
      return static_cast<std::uint32_t>(items_.size() - 1);
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    items_[slot] = std::move(item);
    return slot;
  }
  T& operator[](std::uint32_t slot) { return items_[slot]; }
  const T& operator[](std::uint32_t slot) const { return items_[slot]; }
  /// Frees the slot and hands its item out.
  T take(std::uint32_t slot) {
    free_.push_back(slot);
    return std::move(items_[slot]);
  }

 private:
  std::vector<T> items_;             // by slot
  std::vector<std::uint32_t> free_;  // slots whose item was taken
};

/// Items released at a cycle, in (cycle, insertion order) order: pipeline stages with variable delay.
/// The heap orders small keys; the items stay in a slot pool (a response is ~70 bytes, and moving it at
/// every level of every sift was a hot spot).
template <class T>
class DelayHeap {
 public:
  static constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
  void push(std::uint64_t cycle, T item) { heap_.push({cycle, seq_++, items_.put(std::move(item))}); }
  bool due(std::uint64_t now) const { return !heap_.empty() && heap_.top().cycle <= now; }
  T pop() {
    const std::uint32_t slot = heap_.top().slot;
    heap_.pop();
    return items_.take(slot);
  }
  const T& top() const { return items_[heap_.top().slot]; }
  std::uint64_t next_cycle() const { return heap_.empty() ? kNone : heap_.top().cycle; }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

 private:
  struct Key {
    std::uint64_t cycle;
    std::uint64_t seq;
    std::uint32_t slot;
    bool operator>(const Key& o) const { return cycle != o.cycle ? cycle > o.cycle : seq > o.seq; }
  };
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> heap_;
  SlotPool<T> items_;
  std::uint64_t seq_ = 0;
};

}  // namespace tilesim
