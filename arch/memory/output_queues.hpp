// Per-output-port FIFOs with departure cycles, for components that route messages to many ports
// (crossbars, the partition fabric, controller multiplexers). A message leaves at its cycle, or later when
// the port's link has no credit (the component is woken when one frees). Cycles must not decrease within
// one port (callers compute them from monotone port-free times).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <vector>

#include "sim/error.hpp"
#include "sim/port.hpp"

namespace tilesim {

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
  std::vector<std::deque<Item>> queues_;
  std::vector<bool> blocked_;
  bool any_blocked_ = false;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::size_t size_ = 0;
};

/// Items released at a cycle, in (cycle, insertion order) order: pipeline stages with variable delay.
template <class T>
class DelayHeap {
 public:
  static constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
  void push(std::uint64_t cycle, T item) { heap_.push({cycle, seq_++, std::move(item)}); }
  bool due(std::uint64_t now) const { return !heap_.empty() && heap_.top().cycle <= now; }
  T pop() {
    T item = std::move(const_cast<Entry&>(heap_.top()).item);
    heap_.pop();
    return item;
  }
  const T& top() const { return heap_.top().item; }
  std::uint64_t next_cycle() const { return heap_.empty() ? kNone : heap_.top().cycle; }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    std::uint64_t cycle;
    std::uint64_t seq;
    T item;
    bool operator>(const Entry& o) const { return cycle != o.cycle ? cycle > o.cycle : seq > o.seq; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace tilesim
