// One direction of a crossbar (sources -> destinations), simulated cycle by cycle: the switching part of
// `Crossbar` (crossbar.hpp).
//
// Messages from a source port wait in arrival order. The first `window` of them (the source port's buffer
// entries; 0 = unlimited, ideal output queueing) are offered to their destination ports, each once its
// source port has carried it in (bytes / width cycles, fractions carry over). Every cycle, each destination
// port that is free takes the oldest message offered to it (by arrival, whatever its source), is busy for
// bytes / width cycles and sends the message `latency` cycles later. Taking a message frees its source's
// entry, so the source's next message is offered. A busy destination therefore delays only the messages
// offered to it, and a destination never idles while a message is offered to it (work-conserving): a
// source loses throughput only while all its entries hold messages for busy destinations (head-of-line
// blocking, Karol, Hluchyj and Morgan, IEEE Trans. Commun. 1987).
//
// With input queueing (a window), a source port crosses to one destination at a time: while a taken
// message crosses (bytes / width cycles), no other destination may take a message of that source, and the
// entry it held is refilled from the end of the crossing. (Before, the refilled entry was offered in the
// same cycle, and a destination served later in that cycle could take it: a source then crossed two
// messages at once, and uniform traffic on one entry per source saturated at 0.69 of the port peak for
// 16 ports instead of Karol's 0.60; tests/memory/test_crossbar_switch.cpp.) Ideal output queues (window
// 0) have no such limit: their messages are in the destinations' queues once carried in.
//
// Multicast: a message that opens a group (a nonzero `answer`) carries replicas (arrive_replica) that are
// offered to their own destinations when it has passed its source port, and that occupy only those
// destinations: the switch copies it, the source port carries it once.
//
// (An earlier version reserved each message's destination time when it arrived. A message that had to wait
// for a source entry then booked its destination in the future, and every later message to that
// destination queued behind the booking while the port sat idle; at 20-40 % port load on the H100
// attention case this fed back from port to port into ~740 cycles of queueing per response.)
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <queue>
#include <unordered_map>
#include <vector>

#include "arch/memory/output_queues.hpp"
#include "arch/memory/port_timer.hpp"
#include "sim/port.hpp"
#include "sim/stats.hpp"

namespace tilesim {

template <class M>
class CrossbarDirection {
 public:
  static constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

  /// `wait`: sampled with the cycles each message waited from arrival until its destination took it.
  CrossbarDirection(std::size_t sources, std::size_t window, std::uint64_t width, std::uint64_t latency, Distribution& wait)
      : window_(window), width_(width), latency_(latency), wait_(wait), waiting_(sources), in_window_(sources, 0),
        in_timer_(sources, PortTimer(width)), crossing_(sources, 0) {}

  void add_destination(OutPort<M>* port) {
    queues_.add_port(port);
    out_timer_.emplace_back(width_);
    offers_.emplace_back();
    scheduled_.push_back(kNone);
  }

  /// A message of `bytes` port bytes arrives at source port `src` for destination `dst`. A nonzero `answer`
  /// opens a multicast group: replicas that name it (arrive_replica) follow this message.
  void arrive(std::size_t src, std::size_t dst, std::uint64_t bytes, std::uint64_t now, M msg, Priority priority,
              std::uint64_t answer = 0) {
    const std::uint32_t slot =
        items_.put(Item{std::move(msg), now, seq_++, bytes, static_cast<std::uint32_t>(dst), priority, answer, kNone});
    ++size_;
    if (answer != 0) groups_[group_key(src, answer)] = Group{slot, {}};
    waiting_[src].push_back(slot);
    admit(src, now);
  }

  /// A copy of the message of group `answer` from source `src` (multicast, replicated in the switch): it is
  /// offered to `dst` when that message has passed its source port (at once if it already has, or if the
  /// group is unknown), and occupies no source port, entry or crossing, only `dst`.
  void arrive_replica(std::size_t src, std::size_t dst, std::uint64_t bytes, std::uint64_t now, M msg,
                      Priority priority, std::uint64_t answer) {
    const std::uint32_t slot =
        items_.put(Item{std::move(msg), now, seq_++, bytes, static_cast<std::uint32_t>(dst), priority, 0, kNone});
    ++size_;
    const auto g = answer == 0 ? groups_.end() : groups_.find(group_key(src, answer));
    if (g == groups_.end()) {
      offer_replica(slot, now);
      return;
    }
    const std::uint64_t entered = items_[g->second.original].entered;
    if (entered == kNone)
      g->second.riders.push_back(slot);
    else
      offer_replica(slot, std::max(now, entered));
  }

  /// Let free destinations take what is offered to them and send what is due; returns messages sent.
  std::size_t step(std::uint64_t now) {
    while (!schedule_.empty() && schedule_.top().cycle <= now) {
      const Due d = schedule_.top();
      schedule_.pop();
      if (scheduled_[d.dst] != d.cycle) continue;  // superseded by an earlier entry
      scheduled_[d.dst] = kNone;
      serve(d.dst, now);
    }
    const std::size_t sent = queues_.drain(now);
    size_ -= sent;
    return sent;
  }

  /// Earliest cycle at which step() has something to do; kNone when nothing waits (or only for credit).
  std::uint64_t next_cycle() const {
    const std::uint64_t s = schedule_.empty() ? kNone : schedule_.top().cycle;
    return std::min(s, queues_.next_cycle());
  }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  bool any_blocked() const { return queues_.any_blocked(); }

 private:
  static constexpr std::uint32_t kNoSource = std::numeric_limits<std::uint32_t>::max();  // a replica's offer
  struct Item {
    M msg;
    std::uint64_t arrived;
    std::uint64_t seq;
    std::uint64_t bytes;
    std::uint32_t dst;
    Priority priority;
    std::uint64_t answer;   // nonzero: the multicast group this message opened
    std::uint64_t entered;  // when it passed its source port (kNone: not yet)
  };
  struct Group {  // a multicast group whose original is still in the switch
    std::uint32_t original;              // its slot
    std::vector<std::uint32_t> riders;   // replica slots waiting for the original to pass its source port
  };
  static std::uint64_t group_key(std::size_t src, std::uint64_t answer) {
    return (static_cast<std::uint64_t>(src) << 48) ^ answer;
  }
  void offer_replica(std::uint32_t slot, std::uint64_t eligible) {
    const Item& it = items_[slot];
    offers_[it.dst].push({eligible, it.seq, slot, kNoSource});
    schedule(it.dst, std::max(eligible, out_timer_[it.dst].free_cycle()));
  }
  struct Offer {  // a message in a source entry, offered to its destination from cycle `eligible`
    std::uint64_t eligible;
    std::uint64_t seq;
    std::uint32_t slot;
    std::uint32_t src;
    bool operator>(const Offer& o) const { return eligible != o.eligible ? eligible > o.eligible : seq > o.seq; }
  };
  struct Due {
    std::uint64_t cycle;
    std::uint32_t dst;
    bool operator>(const Due& o) const { return cycle != o.cycle ? cycle > o.cycle : dst > o.dst; }
  };

  /// Move a source's waiting messages into its free entries (all of them with an unlimited window).
  void admit(std::size_t src, std::uint64_t now) {
    auto& q = waiting_[src];
    while (!q.empty() && (window_ == 0 || in_window_[src] < window_)) {
      const std::uint32_t slot = q.front();
      q.pop_front();
      ++in_window_[src];
      Item& it = items_[slot];
      const std::uint64_t entered = std::max(in_timer_[src].reserve(now, it.bytes), crossing_[src] / width_);
      it.entered = entered;
      offers_[it.dst].push({entered, it.seq, slot, static_cast<std::uint32_t>(src)});
      schedule(it.dst, std::max(entered, out_timer_[it.dst].free_cycle()));
      if (it.answer != 0) {
        const auto g = groups_.find(group_key(src, it.answer));
        if (g != groups_.end() && g->second.original == slot) {
          for (const std::uint32_t r : g->second.riders) offer_replica(r, entered);
          g->second.riders.clear();
        }
      }
    }
  }

  void schedule(std::uint32_t dst, std::uint64_t cycle) {
    if (scheduled_[dst] != kNone && scheduled_[dst] <= cycle) return;
    scheduled_[dst] = cycle;
    schedule_.push({cycle, dst});
  }

  void serve(std::uint32_t dst, std::uint64_t now) {
    auto& offers = offers_[dst];
    PortTimer& out = out_timer_[dst];
    // Offers whose source is crossing to another destination wait; the oldest takeable one goes. Only a
    // window above 1 has such offers (a single entry is offered from the end of its source's crossing).
    std::uint64_t retry = kNone;
    while (!offers.empty() && offers.top().eligible <= now && out.free_cycle() <= now) {
      const Offer o = offers.top();
      offers.pop();
      const bool replica = o.src == kNoSource;
      if (!replica && crossing_[o.src] >= (now + 1) * width_) {  // its source's last crossing lasts past this cycle
        retry = std::min(retry, crossing_[o.src] / width_);
        set_aside_.push_back(o);
        continue;
      }
      Item it = items_.take(o.slot);
      if (it.answer != 0) {  // the group closes: later replicas of it go at once
        const auto g = groups_.find(group_key(o.src, it.answer));
        if (g != groups_.end() && g->second.original == o.slot) groups_.erase(g);
      }
      out.reserve(now, it.bytes);
      if (window_ > 0 && !replica) crossing_[o.src] = std::max(crossing_[o.src], now * width_) + it.bytes;
      wait_.sample(static_cast<double>(now - it.arrived));
      queues_.push(dst, now + latency_, std::move(it.msg), it.priority);
      if (replica) continue;
      --in_window_[o.src];
      admit(o.src, now);
    }
    const std::uint64_t later = offers.empty() ? kNone : offers.top().eligible;  // the oldest not set aside
    for (const Offer& o : set_aside_) offers.push(o);
    set_aside_.clear();
    if (!offers.empty()) schedule(dst, std::max({now + 1, out.free_cycle(), std::min(later, retry)}));
  }

  const std::size_t window_;
  const std::uint64_t width_, latency_;
  Distribution& wait_;
  SlotPool<Item> items_;
  std::uint64_t seq_ = 0;
  std::size_t size_ = 0;              // messages in the direction (waiting, offered or queued to leave)
  std::vector<RingQueue<std::uint32_t>> waiting_;  // per source: slots not yet in an entry
  std::vector<std::size_t> in_window_;             // per source: entries taken
  std::vector<PortTimer> in_timer_;                // per source port
  std::vector<PortTimer> out_timer_;               // per destination port
  std::vector<std::uint64_t> crossing_;            // per source: end of its last crossing, in cycles x width
  std::vector<Offer> set_aside_;                   // serve(): offers passed over while their source crosses
  std::vector<std::priority_queue<Offer, std::vector<Offer>, std::greater<Offer>>> offers_;  // per destination
  std::vector<std::uint64_t> scheduled_;  // per destination: the cycle of its live schedule_ entry (kNone: none)
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> schedule_;
  std::unordered_map<std::uint64_t, Group> groups_;  // open multicast groups, by group_key
  OutputQueues<M> queues_;  // crossed, waiting for their cycle and the link's credit
};

}  // namespace tilesim
