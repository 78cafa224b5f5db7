#include "arch/simt/micro_op.hpp"

#include "sim/error.hpp"

namespace tilesim::simt {

const char* micro_kind_name(MicroKind k) {
  switch (k) {
    case MicroKind::compute: return "compute";
    case MicroKind::mma_sync: return "mma_sync";
    case MicroKind::wgmma: return "wgmma";
    case MicroKind::global_load: return "global_load";
    case MicroKind::global_store: return "global_store";
    case MicroKind::global_atomic: return "global_atomic";
    case MicroKind::shared_load: return "shared_load";
    case MicroKind::shared_store: return "shared_store";
    case MicroKind::remote_load: return "remote_load";
    case MicroKind::tma_load: return "tma_load";
    case MicroKind::tma_store: return "tma_store";
    case MicroKind::cp_async: return "cp_async";
    case MicroKind::wait: return "wait";
    case MicroKind::barrier: return "barrier";
    case MicroKind::group_barrier: return "group_barrier";
    case MicroKind::cluster_barrier: return "cluster_barrier";
    case MicroKind::channel_acquire: return "channel_acquire";
    case MicroKind::channel_put: return "channel_put";
    case MicroKind::channel_get: return "channel_get";
    case MicroKind::channel_release: return "channel_release";
    case MicroKind::exit: return "exit";
  }
  return "?";
}

Time MicroOp::ready_for(std::uint32_t warp, std::uint32_t j, std::uint32_t of) const {
  const std::size_t s = slot(warp);
  if (!elementwise || of <= 1 || first[s] == kPending) return last[s];
  if (last[s] == kPending) return kPending;
  // The producer's instruction matching the consumer's j-th, in proportion.
  const double frac = static_cast<double>(j) / static_cast<double>(of - 1);
  return first[s] + static_cast<Time>(frac * static_cast<double>(last[s] - first[s]));
}

MicroOpPool::~MicroOpPool() = default;

MicroOp* MicroOpPool::make(MicroKind kind, std::uint32_t warps, bool group_wide) {
  MicroOp* m;
  if (!free_.empty()) {
    m = free_.back();
    free_.pop_back();
  } else {
    all_.push_back(std::make_unique<MicroOp>());
    m = all_.back().get();
  }
  ++live_;
  m->kind = kind;
  m->unit = Unit::uniform;
  m->count = 1;
  m->latency = 1;
  m->interval = 1;
  m->elementwise = false;
  m->streams = false;
  m->leader_only = false;
  m->group_wide = group_wide;
  m->shared_bytes = 0;
  m->chains = 1;
  m->shared_offset = 0;
  m->channel = -1;
  m->item = -1;
  m->peer_rank = 0;
  m->flops = 0;
  m->access.reset();
  m->srcs.clear();
  m->skip_src_mask = 0;
  m->op = nullptr;
  m->warps = warps;
  const std::size_t slots = group_wide ? 1 : warps;
  m->first.assign(slots, kPending);
  m->last.assign(slots, kPending);
  m->pending.assign(slots, 0);
  m->issued.assign(warps, 0);
  m->warps_done = 0;
  m->refs = 1;
  return m;
}

void MicroOpPool::release(MicroOp* m) {
  if (m->refs == 0) panic("micro-op released more often than referenced (", micro_kind_name(m->kind), ")");
  if (--m->refs > 0) return;
  for (MicroOp* s : m->srcs) release(s);
  m->srcs.clear();
  m->access.reset();
  free_.push_back(m);
  --live_;
}

}  // namespace tilesim::simt
