// Ports and links (DESIGN.md §4): components talk only through typed ports joined by links that carry
// a latency and, optionally, a credit limit (messages in flight). Delivery order is deterministic:
// (ready time, named priority, link id, per-link sequence number) — never insertion luck.
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <typeinfo>
#include <vector>

#include "sim/error.hpp"
#include "sim/time.hpp"

namespace tilesim {

class Component;
class PortBase;
/// Adds `port` to its owner's port list (defined in component.cpp; ports register themselves).
void attach_port(Component& owner, PortBase& port);

/// Named priorities for messages that become ready at the same time (lower is delivered first).
enum class Priority : std::uint8_t { urgent = 0, response = 1, request = 2, background = 3 };

struct LinkParams {
  Tick latency = 1;            // >= 1 ps: a message is never visible in the time step it was sent
  std::uint32_t capacity = 0;  // messages in flight (sent, not yet popped); 0 = unlimited
  std::uint32_t id = 0;        // assigned by the simulator, in declaration order
};

/// Services a port needs from the simulation kernel (implemented by the Simulator).
class PortServices {
 public:
  virtual ~PortServices() = default;
  virtual Tick now_tick() const = 0;
  /// Make `c` be ticked at its first clock edge at or after `ready` (strictly after now).
  virtual void wake_at_tick(Component& c, Tick ready) = 0;
};

class PortBase {
 public:
  enum class Direction { in, out };
  PortBase(Component& owner, std::string name, Direction dir, const std::type_info& type, const char* type_name)
      : owner_(owner), name_(std::move(name)), dir_(dir), type_(type), type_name_(type_name) {
    attach_port(owner, *this);
  }
  virtual ~PortBase() = default;
  PortBase(const PortBase&) = delete;
  PortBase& operator=(const PortBase&) = delete;

  Component& owner() const { return owner_; }
  const std::string& name() const { return name_; }
  std::string full_name() const;
  Direction direction() const { return dir_; }
  const std::type_info& message_type() const { return type_; }
  const char* message_type_name() const { return type_name_; }
  virtual bool connected() const = 0;
  /// The full name of the port at the other end, or "" if unconnected.
  virtual std::string peer_name() const = 0;
  /// Output ports: create the link to `in` (same message type, checked by the caller) and return it.
  virtual std::shared_ptr<void> link_to(PortBase& in, const LinkParams& params, PortServices& services) {
    panic("link_to called on input port ", full_name());
  }

 private:
  Component& owner_;
  std::string name_;
  Direction dir_;
  const std::type_info& type_;
  const char* type_name_;
};

template <class M>
class InPort;
template <class M>
class OutPort;

template <class M>
struct Link {
  OutPort<M>* src = nullptr;
  InPort<M>* dst = nullptr;
  LinkParams params;
  PortServices* services = nullptr;
  std::uint64_t next_seq = 0;
  std::uint32_t in_flight = 0;
  bool sender_blocked = false;  // the sender found no credit; wake it when one frees
};

template <class M>
class InPort final : public PortBase {
 public:
  InPort(Component& owner, std::string name, const char* type_name)
      : PortBase(owner, std::move(name), Direction::in, typeid(M), type_name) {}

  bool connected() const override { return !links_.empty(); }
  std::string peer_name() const override;

  /// A message is ready (its delivery time has come).
  bool ready() const { return !queue_.empty() && queue_.top().ready <= services()->now_tick(); }
  /// Messages sent to this port that are not yet ready, plus ready ones not yet popped.
  std::size_t pending() const { return queue_.size(); }
  const M& peek() const {
    if (!ready()) panic("peek on ", full_name(), " with no ready message");
    return queue_.top().msg;
  }
  /// When the head message became ready (queueing-time statistics: now minus this is how long it waited).
  Tick head_ready() const {
    if (!ready()) panic("head_ready on ", full_name(), " with no ready message");
    return queue_.top().ready;
  }
  M pop();

 private:
  friend class OutPort<M>;
  struct Entry {
    Tick ready;
    std::uint8_t priority;
    std::uint32_t link;
    std::uint64_t seq;
    M msg;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.ready != b.ready) return a.ready > b.ready;
      if (a.priority != b.priority) return a.priority > b.priority;
      if (a.link != b.link) return a.link > b.link;
      return a.seq > b.seq;
    }
  };
  PortServices* services() const {
    if (links_.empty()) panic("port ", full_name(), " used but not connected");
    return links_.front()->services;
  }
  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::vector<Link<M>*> links_;  // several senders may feed one input port
};

template <class M>
class OutPort final : public PortBase {
 public:
  OutPort(Component& owner, std::string name, const char* type_name)
      : PortBase(owner, std::move(name), Direction::out, typeid(M), type_name) {}

  bool connected() const override { return link_ != nullptr; }
  std::string peer_name() const override { return link_ ? link_->dst->full_name() : std::string(); }

  /// True when the link has a free credit. When it returns false, the sender is woken once one frees.
  bool can_send() {
    Link<M>& l = link();
    if (l.params.capacity == 0 || l.in_flight < l.params.capacity) return true;
    l.sender_blocked = true;
    return false;
  }
  void send(M msg, Priority priority = Priority::request) {
    Link<M>& l = link();
    if (l.params.capacity != 0 && l.in_flight >= l.params.capacity)
      panic(full_name(), ": send without a free credit (call can_send() first)");
    ++l.in_flight;
    const Tick ready = l.services->now_tick() + l.params.latency;
    l.dst->queue_.push({ready, static_cast<std::uint8_t>(priority), l.params.id, l.next_seq++, std::move(msg)});
    l.services->wake_at_tick(l.dst->owner(), ready);
  }
  std::shared_ptr<void> link_to(PortBase& in, const LinkParams& params, PortServices& services) override {
    auto* dst = dynamic_cast<InPort<M>*>(&in);
    if (!dst) panic("link_to: ", in.full_name(), " does not carry ", message_type_name());
    if (link_) panic("port ", full_name(), " connected twice");
    auto l = std::make_shared<Link<M>>();
    l->src = this;
    l->dst = dst;
    l->params = params;
    l->services = &services;
    link_ = l.get();
    dst->links_.push_back(l.get());
    return l;
  }

 private:
  Link<M>& link() {
    if (!link_) panic("port ", full_name(), " used but not connected");
    return *link_;
  }
  Link<M>* link_ = nullptr;
};

template <class M>
std::string InPort<M>::peer_name() const {
  std::string out;
  for (const auto* l : links_) out += (out.empty() ? "" : ", ") + l->src->full_name();
  return out;
}

template <class M>
M InPort<M>::pop() {
  if (!ready()) panic("pop on ", full_name(), " with no ready message");
  Entry e = queue_.top();
  queue_.pop();
  Link<M>* l = nullptr;
  for (auto* cand : links_)
    if (cand->params.id == e.link) l = cand;
  if (!l) panic("message on ", full_name(), " from unknown link ", e.link);
  --l->in_flight;
  if (l->sender_blocked) {  // a credit freed: the blocked sender may go on at its next edge
    l->sender_blocked = false;
    l->services->wake_at_tick(l->src->owner(), l->services->now_tick() + 1);
  }
  return std::move(e.msg);
}

}  // namespace tilesim
