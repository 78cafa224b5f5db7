#include "arch/memory/memory_system.hpp"

#include <cmath>
#include <map>

#include "arch/memory/cluster_network.hpp"
#include "arch/memory/copy_engine.hpp"
#include "arch/memory/crossbar.hpp"
#include "arch/memory/dram/hbm_config.hpp"
#include "arch/memory/dram/hbm_controller.hpp"
#include "arch/memory/l1_cache.hpp"
#include "arch/memory/l2_slice.hpp"
#include "arch/memory/partition_fabric.hpp"
#include "arch/memory/scratchpad.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {

ParamSchema chip_schema() {
  ParamSchema s;
  s.integer("cores", 4, "cores (SMs, TensorCores, ...) attached to the memory hierarchy", 1, 100000)
      .quantity("core_clock", UnitKind::frequency, "1.5GHz", "core clock", 1)
      .real("l2_clock_ratio", 1.0, "clock of the crossbars, fabric and cache slices / core clock", 0.01, 100)
      .integer("dies", 1, "dies (the partitions are spread evenly over them)", 1, 16)
      .integer("partitions", 1, "last-level cache partitions", 1, 64)
      .integer("cores_per_group", 4, "consecutive cores that share a cluster network group (GPC)", 1, 1024);
  return s;
}

ParamSchema scratch_schema() {
  ParamSchema s;
  s.quantity("size", UnitKind::size, "228KiB", "scratch capacity per core", 1)
      .integer("banks", 32, "banks", 1, 1024)
      .quantity("bank_bytes", UnitKind::size, "4B", "bytes per bank per cycle", 1)
      .quantity("latency", UnitKind::cycles, "20", "cycles from the start of a conflict-free access to its response", 1);
  return s;
}

ParamSchema l1_schema() {
  ParamSchema out;
  out.quantity("size", UnitKind::size, "128KiB", "capacity per core", 1)
      .quantity("line_size", UnitKind::size, "128B", "line (tag) size", 1)
      .quantity("sector_size", UnitKind::size, "32B", "sector size", 1)
      .integer("assoc", 4, "ways per set", 1, 1024)
      .quantity("tag_latency", UnitKind::cycles, "4", "cycles from a request's arrival to its hit/miss decision")
      .quantity("data_latency", UnitKind::cycles, "10", "cycles from the hit decision to the response")
      .quantity("fill_latency", UnitKind::cycles, "4", "cycles from a fill's arrival to the response it completes")
      .integer("mshrs", 64, "lines with misses in flight at most", 1, 65536)
      .integer("mshr_targets", 16, "requests merged into one line's miss at most", 1, 4096)
      .integer("lookups_per_cycle", 1, "tag lookups per cycle", 1, 64)
      .quantity("data_bytes_per_cycle", UnitKind::size, "128B", "data-port width per cycle", 1)
      .integer("max_pending_writes", 256, "writes forwarded and not yet acknowledged at most", 1, 1 << 20)
      .integer("request_queue", 8, "requests the core may have queued at the cache's input (link credit)", 1, 1 << 16);
  return out;
}

ParamSchema noc_schema() {
  ParamSchema s;
  s.quantity("latency", UnitKind::cycles, "10", "cycles to cross a partition's crossbar, one way, unloaded", 1)
      .quantity("port_bytes_per_cycle", UnitKind::size, "32B", "width of every crossbar port (per core client, per slice)", 1)
      .quantity("header_bytes", UnitKind::size, "8B", "bytes of address/command per message besides data", 0)
      .boolean("head_of_line", false, "input-queued crossbar: a message blocks its source port until its destination "
               "port takes it (false: ideal output queues); the same as input_window 1")
      .integer("input_window", 0, "input-queued crossbar with this many buffer entries per source port (a message "
               "holds one until its destination port takes it); 0: ideal output queues", 0, 1 << 16)
      .quantity("far_latency", UnitKind::cycles, "40", "one-way cycles between two partitions of one die", 1)
      .quantity("die_latency", UnitKind::cycles, "0", "extra one-way cycles between dies", 0)
      .quantity("fabric_bytes_per_cycle", UnitKind::size, "256B", "width of the link from one partition to another", 1)
      .integer("slice_queue", 64, "requests waiting at a slice's input at most (link credit; also the reads a slice "
               "holds beside a line's full MSHR target list, memory.l2 replay slots)", 1, 1 << 16);
  return s;
}

ParamSchema l2_schema() {
  ParamSchema s;
  s.quantity("size", UnitKind::size, "5MiB", "capacity of all partitions together", 1)
      .integer("slices_per_partition", 10, "slices per partition (a multiple of the controllers per partition)", 1, 1024)
      .quantity("line_size", UnitKind::size, "128B", "line (tag) size", 1)
      .quantity("sector_size", UnitKind::size, "32B", "sector size", 1)
      .integer("assoc", 16, "ways per set", 1, 1024)
      .quantity("tag_latency", UnitKind::cycles, "20", "cycles from arrival to the hit/miss decision")
      .quantity("data_latency", UnitKind::cycles, "20", "cycles from the hit decision to the response")
      .quantity("fill_latency", UnitKind::cycles, "10", "cycles from a fill's arrival to its responses")
      .integer("mshrs", 256, "lines with misses in flight per slice", 1, 1 << 20)
      .integer("mshr_targets", 32, "requests merged into one line's miss", 1, 4096)
      .integer("far_mshrs", 0, "MSHRs that lines homed in another partition (far misses) may hold at most; the rest are kept for home lines; 0: half of mshrs", 0, 1 << 20)
      .boolean("request_coalescer", false,
               "the cores' reads that one fill completes are answered as one: one data-array read and one crossbar "
               "transfer, replicated to each requester's port (GH100's L2 request coalescer; arch/memory/README.md)")
      .boolean("request_coalescer_queued", true,
               "with request_coalescer: a core read that waited in a slice's input while a core read of its line was "
               "looked up is merged with it (no lookup of its own; a hit's answer replicated to it; README)")
      .integer("lookups_per_cycle", 1, "tag lookups per slice per cycle", 1, 64)
      .quantity("data_bytes_per_cycle", UnitKind::size, "64B", "data-array bandwidth per slice per cycle", 1)
      .integer("max_pending_writes", 256, "writes forwarded to a home slice and unacknowledged, per slice", 1, 1 << 20)
      .integer("downstream_queue", 256, "requests waiting to leave a slice (misses, write-backs); inputs wait beyond",
               1, 1 << 20)
      .integer("controller_queue", 32, "requests in flight on each link into a memory controller (link credit)", 1,
               1 << 20)
      .quantity("slice_interleave", UnitKind::size, "128B", "bytes hashed as one unit onto a slice of a controller", 1)
      .quantity("controller_latency", UnitKind::cycles, "20", "cycles each way between a slice and its memory controller "
                "(controller front end, PHY) besides the DRAM timing", 0)
      .boolean("prefill", false, "start full of unrelated lines (the steady state of earlier work) instead of empty")
      .real("prefill_dirty", 0.0, "fraction of the prefilled (home) lines that are dirty", 0, 1)
      .boolean("prefill_replicas", false, "prefill every partition with the lines from prefill_base up, homed or not "
               "(the steady state after cores of every partition read them)")
      .quantity("prefill_base", UnitKind::size, "32GiB",
                "prefilled lines come from addresses at and above this one (set it to a workload's data to start "
                "with that data cached)", 0);
  return s;
}

ParamSchema copy_schema() {
  ParamSchema s;
  s.quantity("issue_latency", UnitKind::cycles, "20", "cycles from a command's arrival to its first request")
      .quantity("completion_latency", UnitKind::cycles, "10", "cycles from the last piece to the completion signal")
      .integer("max_outstanding", 64, "pieces (line requests) in flight per engine", 1, 1 << 20)
      .integer("requests_per_cycle", 1, "pieces issued per cycle", 1, 64);
  return s;
}

ParamSchema cluster_schema() {
  ParamSchema s;
  s.quantity("latency", UnitKind::cycles, "70", "one-way cycles to another core's scratch", 1)
      .quantity("local_latency", UnitKind::cycles, "2", "one-way cycles to the own scratch through the window", 0)
      .quantity("multicast_latency", UnitKind::cycles, "4",
                "cycles a TMA multicast line takes from the fetching core to a peer core of its cluster", 0)
      .quantity("port_bytes_per_cycle", UnitKind::size, "32B", "per-core injection/ejection width per direction", 1)
      .quantity("group_bytes_per_cycle", UnitKind::size, "256B", "switching bandwidth shared by one group", 1)
      .quantity("window_bytes", UnitKind::size, "1MiB", "bytes of cluster window per core (>= scratch size)", 1);
  return s;
}

using Texts = std::map<std::string, std::string>;

/// Copy the named parameters of a section as text (canonical, re-parseable).
void copy_params(Texts& out, const ParamValues& section, std::initializer_list<const char*> names) {
  for (const char* n : names) out[n] = section.all().at(n).text;
}

std::string integer_text(std::uint64_t v) { return std::to_string(v); }
std::string bytes_text(std::uint64_t v) { return std::to_string(v) + "B"; }

Tick one_cycle(const ClockDomain& c) { return c.tick_of(Cycle(1)) - c.tick_of(Cycle(0)); }

template <class T>
T& add_component(Simulator& sim, const std::string& name, const char* kind, const Texts& given, ClockDomain& clock) {
  ParamValues p = ParamValues::resolve(T::param_schema(), given, name);
  auto c = std::make_unique<T>(ComponentContext{name, kind, p, &clock, &sim});
  T& ref = *c;
  sim.add(std::move(c));
  return ref;
}

AddressMapSpec address_map_spec(const SystemSections& cfg) {
  const ParamValues& chip = cfg.at("chip");
  const ParamValues& l2 = cfg.at("memory.l2");
  const ParamValues& hbm = cfg.at("memory.hbm");
  AddressMapSpec s;
  s.partitions = static_cast<std::uint32_t>(chip.integer("partitions"));
  s.dies = static_cast<std::uint32_t>(chip.integer("dies"));
  s.slices_per_partition = static_cast<std::uint32_t>(l2.integer("slices_per_partition"));
  s.controllers = static_cast<std::uint32_t>(hbm.integer("controllers"));
  s.controller_interleave = hbm.bytes("controller_interleave");
  s.slice_interleave = l2.bytes("slice_interleave");
  s.cores = static_cast<std::uint32_t>(chip.integer("cores"));
  return s;
}

std::uint64_t cycles_of(const ParamValues& p, const char* name) { return static_cast<std::uint64_t>(p.quantity(name)); }

}  // namespace

std::vector<std::pair<std::string, ParamSchema>> memory_sections() {
  return {{"chip", chip_schema()},           {"memory.scratch", scratch_schema()}, {"memory.l1", l1_schema()},
          {"memory.noc", noc_schema()},      {"memory.l2", l2_schema()},           {"memory.hbm", dram::hbm_section_schema()},
          {"memory.tma", copy_schema()},     {"memory.dsmem", cluster_schema()}};
}

MemorySystem build_memory_system(Simulator& sim, const SystemSections& cfg) {
  const ParamValues& chip = cfg.at("chip");
  const ParamValues& scratch = cfg.at("memory.scratch");
  const ParamValues& l1 = cfg.at("memory.l1");
  const ParamValues& noc = cfg.at("memory.noc");
  const ParamValues& l2 = cfg.at("memory.l2");
  const ParamValues& hbm = cfg.at("memory.hbm");
  const ParamValues& copy = cfg.at("memory.tma");
  const ParamValues& cluster = cfg.at("memory.dsmem");

  const AddressMapSpec spec = address_map_spec(cfg);
  MemorySystem mem{nullptr, nullptr, nullptr, {}, AddressMap(spec, "chip.partitions / memory.l2.slices_per_partition / "
                                                                   "memory.hbm.controllers"),
                   {}};
  const AddressMap& map = mem.map;
  const std::uint32_t cores = spec.cores;
  const std::uint32_t slices = map.slices();
  const std::uint64_t l2_total = l2.bytes("size");
  if (l2_total % slices != 0)
    throw ConfigError(cat("memory.l2.size: ", l2_total, " B does not split evenly over ", slices, " slices (chip.partitions x "
                          "memory.l2.slices_per_partition)"));
  const std::uint64_t l2_way_bytes = l2.bytes("line_size") * static_cast<std::uint64_t>(l2.integer("assoc"));
  if ((l2_total / slices) % l2_way_bytes != 0)
    throw ConfigError(cat("memory.l2.size: ", l2_total / slices, " B per slice is not a multiple of line_size x assoc (",
                          l2_way_bytes, " B)"));
  const std::uint64_t l1_way_bytes = l1.bytes("line_size") * static_cast<std::uint64_t>(l1.integer("assoc"));
  if (l1.bytes("size") % l1_way_bytes != 0)
    throw ConfigError(cat("memory.l1.size: ", l1.bytes("size"), " B is not a multiple of line_size x assoc (",
                          l1_way_bytes, " B)"));
  if (l1.bytes("line_size") != l2.bytes("line_size"))
    throw ConfigError("memory.l1.line_size and memory.l2.line_size must be equal (fills are per line)");
  if (cluster.bytes("window_bytes") < scratch.bytes("size"))
    throw ConfigError("memory.dsmem.window_bytes must be at least memory.scratch.size");
  const std::uint64_t group = static_cast<std::uint64_t>(chip.integer("cores_per_group"));

  // Clocks.
  const auto core_hz = static_cast<std::uint64_t>(std::llround(chip.quantity("core_clock")));
  const auto l2_hz = static_cast<std::uint64_t>(std::llround(chip.quantity("core_clock") * chip.real("l2_clock_ratio")));
  const auto dram_hz = static_cast<std::uint64_t>(std::llround(hbm.quantity("clock")));
  mem.core_clock = &sim.add_clock("core", core_hz);
  mem.l2_clock = &sim.add_clock("l2", l2_hz);
  mem.dram_clock = &sim.add_clock("dram", dram_hz);
  auto link = [&](ClockDomain& receiver, std::uint32_t capacity = 0) {
    return LinkParams{one_cycle(receiver), capacity, 0};
  };

  mem.info.cores = cores;
  mem.info.line_bytes = static_cast<std::uint32_t>(l2.bytes("line_size"));
  mem.info.sector_bytes = static_cast<std::uint32_t>(l2.bytes("sector_size"));
  mem.info.scratch_bytes = scratch.bytes("size");
  mem.info.l1_bytes = l1.bytes("size");
  mem.info.l2_bytes = l2_total;
  mem.info.l2_partition_bytes = l2_total / spec.partitions;
  mem.info.cluster_window_bytes = cluster.bytes("window_bytes");
  mem.info.cores_per_group = static_cast<std::uint32_t>(group);
  mem.info.core_hz = core_hz;

  const Texts amap = map.param_texts();

  // Per core: scratch, L1-like cache, copy engine.
  std::vector<Scratchpad*> scratches;
  std::vector<L1Cache*> caches;
  std::vector<CopyEngine*> engines;
  for (std::uint32_t c = 0; c < cores; ++c) {
    const std::string base = cat("core", c, ".");
    Texts sp;
    copy_params(sp, scratch, {"size", "banks", "bank_bytes", "latency"});
    sp["clients"] = integer_text(kScratchClients);
    scratches.push_back(&add_component<Scratchpad>(sim, base + "scratch", "scratchpad", sp, *mem.core_clock));

    Texts cp;
    copy_params(cp, l1, {"size", "line_size", "sector_size", "assoc", "tag_latency", "data_latency", "fill_latency", "mshrs",
                         "mshr_targets", "lookups_per_cycle", "data_bytes_per_cycle", "max_pending_writes"});
    cp["source_id"] = integer_text(c * kXbarClientsPerCore + kXbarCache);
    caches.push_back(&add_component<L1Cache>(sim, base + "l1", "l1_cache", cp, *mem.core_clock));

    Texts ep;
    copy_params(ep, copy, {"issue_latency", "completion_latency", "max_outstanding", "requests_per_cycle"});
    ep["line_size"] = l2.all().at("line_size").text;
    ep["source_id"] = integer_text(c * kXbarClientsPerCore + kXbarCopy);
    engines.push_back(&add_component<CopyEngine>(sim, base + "copy", "copy_engine", ep, *mem.core_clock));
  }

  // Per partition: a crossbar; per slice: an L2 slice.
  std::vector<Crossbar*> xbars;
  for (std::uint32_t p = 0; p < spec.partitions; ++p) {
    Texts xp = amap;
    copy_params(xp, noc, {"latency", "port_bytes_per_cycle", "header_bytes", "head_of_line", "input_window"});
    xp["clients"] = integer_text(map.cores_in(p) * kXbarClientsPerCore);
    xp["client_base"] = integer_text(map.first_core(p) * kXbarClientsPerCore);
    xp["partition"] = integer_text(p);
    xbars.push_back(&add_component<Crossbar>(sim, cat("xbar", p), "crossbar", xp, *mem.l2_clock));
  }
  std::vector<L2Slice*> l2s;
  for (std::uint32_t g = 0; g < slices; ++g) {
    Texts lp = amap;
    copy_params(lp, l2, {"line_size", "sector_size", "assoc", "tag_latency", "data_latency", "fill_latency", "mshrs",
                         "mshr_targets", "far_mshrs", "request_coalescer", "request_coalescer_queued", "lookups_per_cycle", "data_bytes_per_cycle", "max_pending_writes", "downstream_queue", "prefill",
                         "prefill_dirty", "prefill_replicas", "prefill_base"});
    lp["size"] = bytes_text(l2_total / slices);
    lp["replay_slots"] = noc.all().at("slice_queue").text;  // a replaying read holds an input-queue entry
    lp["slice"] = integer_text(g);
    l2s.push_back(&add_component<L2Slice>(sim, cat("l2.slice", g), "l2_slice", lp, *mem.l2_clock));
  }
  Texts fp = amap;
  copy_params(fp, noc, {"far_latency", "die_latency", "header_bytes"});
  fp["link_bytes_per_cycle"] = noc.all().at("fabric_bytes_per_cycle").text;
  PartitionFabric& fabric = add_component<PartitionFabric>(sim, "fabric", "partition_fabric", fp, *mem.l2_clock);

  // Memory controllers, each behind its path from the slices.
  const std::uint32_t per_controller = map.slices_per_controller();
  for (std::uint32_t k = 0; k < map.controllers(); ++k) {
    const std::uint32_t part = k / map.controllers_per_partition();
    const std::uint32_t first_slice = map.global_slice(part, (k % map.controllers_per_partition()) * per_controller);
    Texts mp = amap;
    mp["controller"] = integer_text(k);
    mp["slice_base"] = integer_text(first_slice);
    mp["slices"] = integer_text(per_controller);
    mp["latency"] = l2.all().at("controller_latency").text;
    ControllerMux& mux = add_component<ControllerMux>(sim, cat("mc", k, ".path"), "controller_mux", mp, *mem.l2_clock);
    ParamValues hp = dram::hbm_controller_params(hbm, cat("memory.hbm (mc", k, ")"));
    auto ctl = std::make_unique<HbmController>(ComponentContext{cat("mc", k), "hbm_controller", hp, mem.dram_clock, &sim});
    Component& controller = sim.add(std::move(ctl));
    const auto controller_queue = static_cast<std::uint32_t>(l2.integer("controller_queue"));
    sim.connect(mux.down, *controller.find_port("req"), link(*mem.dram_clock, controller_queue));
    sim.connect(*controller.find_port("resp"), mux.resp, link(*mem.l2_clock));
    for (std::uint32_t i = 0; i < per_controller; ++i) {
      L2Slice& s = *l2s[first_slice + i];
      sim.connect(s.mem_req, mux.req, link(*mem.l2_clock, controller_queue));
      sim.connect(*mux.up_ports[i], s.mem_resp, link(*mem.l2_clock));
    }
  }

  // Slices to their crossbar and to the fabric.
  const auto slice_queue = static_cast<std::uint32_t>(noc.integer("slice_queue"));
  for (std::uint32_t g = 0; g < slices; ++g) {
    L2Slice& s = *l2s[g];
    Crossbar& x = *xbars[map.partition_of_slice(g)];
    sim.connect(*x.slice_ports[g % spec.slices_per_partition], s.req, link(*mem.l2_clock, slice_queue));
    sim.connect(s.resp, x.resp, link(*mem.l2_clock));
    sim.connect(s.fwd_req, fabric.req, link(*mem.l2_clock));
    sim.connect(*fabric.home_ports[g], s.home_req, link(*mem.l2_clock, slice_queue));
    sim.connect(s.home_resp, fabric.resp, link(*mem.l2_clock));
    sim.connect(*fabric.back_ports[g], s.fwd_resp, link(*mem.l2_clock));
  }

  // Cluster network between cores' scratches.
  Texts np;
  copy_params(np, cluster, {"latency", "local_latency", "multicast_latency", "port_bytes_per_cycle", "group_bytes_per_cycle",
                            "window_bytes"});
  np["cores"] = integer_text(cores);
  np["group_size"] = integer_text(group);
  np["header_bytes"] = noc.all().at("header_bytes").text;
  // A multicast copy enters the peer the way its copy engine's L2 responses do (cluster_network.hpp).
  np["multicast_bytes_per_cycle"] = noc.all().at("port_bytes_per_cycle").text;
  ClusterNetwork& net = add_component<ClusterNetwork>(sim, "cluster_net", "cluster_network", np, *mem.core_clock);

  // Per core: cache and copy engine to the crossbar, copy engine and network to the scratch.
  for (std::uint32_t c = 0; c < cores; ++c) {
    Crossbar& x = *xbars[map.partition_of_core(c)];
    const std::uint32_t local = c - map.first_core(map.partition_of_core(c));
    sim.connect(caches[c]->mem_req, x.req, link(*mem.l2_clock));
    sim.connect(*x.client_ports[local * kXbarClientsPerCore + kXbarCache], caches[c]->mem_resp, link(*mem.core_clock));
    sim.connect(engines[c]->mem_req, x.req, link(*mem.l2_clock));
    sim.connect(*x.client_ports[local * kXbarClientsPerCore + kXbarCopy], engines[c]->mem_resp, link(*mem.core_clock));
    sim.connect(engines[c]->scratch_req, *scratches[c]->req_ports[kScratchCopy], link(*mem.core_clock));
    sim.connect(*scratches[c]->resp_ports[kScratchCopy], engines[c]->scratch_resp, link(*mem.core_clock));
    sim.connect(*net.scratch_ports[c], *scratches[c]->req_ports[kScratchCluster], link(*mem.core_clock));
    sim.connect(*scratches[c]->resp_ports[kScratchCluster], net.from_scratch, link(*mem.core_clock));
    sim.connect(engines[c]->mcast_out, net.mcast_in, link(*mem.core_clock));
    sim.connect(*net.engine_ports[c], engines[c]->mcast_in, link(*mem.core_clock));

    CoreMemoryPorts ports;
    ports.core = c;
    ports.cache_req = &caches[c]->req;
    ports.cache_resp = &caches[c]->resp;
    ports.scratch_req = scratches[c]->req_ports[kScratchCore].get();
    ports.scratch_resp = scratches[c]->resp_ports[kScratchCore].get();
    ports.copy_cmd = &engines[c]->cmd;
    ports.copy_done = &engines[c]->done;
    ports.remote_req = &net.req;
    ports.remote_resp = net.resp_ports[c].get();
    mem.cores.push_back(ports);
  }
  mem.cache_request_queue = static_cast<std::uint32_t>(l1.integer("request_queue"));
  return mem;
}

void attach_core(Simulator& sim, const MemorySystem& mem, const CoreMemoryPorts& m, const CoreSidePorts& c) {
  if (!c.cache_req || !c.cache_resp || !c.scratch_req || !c.scratch_resp || !c.copy_cmd || !c.copy_done || !c.remote_req ||
      !c.remote_resp)
    panic("attach_core: every core-side port must be given (core ", m.core, ")");
  const Tick cycle = one_cycle(*mem.core_clock);
  sim.connect(*c.cache_req, *m.cache_req, LinkParams{cycle, mem.cache_request_queue, 0});
  sim.connect(*m.cache_resp, *c.cache_resp, LinkParams{cycle, 0, 0});
  sim.connect(*c.scratch_req, *m.scratch_req, LinkParams{cycle, 0, 0});
  sim.connect(*m.scratch_resp, *c.scratch_resp, LinkParams{cycle, 0, 0});
  sim.connect(*c.copy_cmd, *m.copy_cmd, LinkParams{cycle, 0, 0});
  sim.connect(*m.copy_done, *c.copy_done, LinkParams{cycle, 0, 0});
  sim.connect(*c.remote_req, *m.remote_req, LinkParams{cycle, 0, 0});
  sim.connect(*m.remote_resp, *c.remote_resp, LinkParams{cycle, 0, 0});
}

UnloadedLatencies unloaded_latency_cycles(const SystemSections& cfg) {
  const ParamValues& chip = cfg.at("chip");
  const ParamValues& scratch = cfg.at("memory.scratch");
  const ParamValues& l1 = cfg.at("memory.l1");
  const ParamValues& noc = cfg.at("memory.noc");
  const ParamValues& l2 = cfg.at("memory.l2");
  const ParamValues& hbm = cfg.at("memory.hbm");
  const ParamValues& cluster = cfg.at("memory.dsmem");
  const double ratio = chip.real("l2_clock_ratio");  // l2 cycles -> core cycles: divide by the ratio
  const double core_hz = chip.quantity("core_clock");
  auto l2c = [&](double l2_cycles) { return l2_cycles / ratio; };
  const double link = 1;  // every link: one cycle of its receiver

  UnloadedLatencies u;
  u.l1_hit = link + cycles_of(l1, "tag_latency") + cycles_of(l1, "data_latency") + link;
  // core -> L1 (miss) -> crossbar -> slice ... slice -> crossbar -> L1 (fill) -> core
  const double to_slice = link + cycles_of(l1, "tag_latency") + l2c(link + cycles_of(noc, "latency") + link);
  const double from_slice = l2c(link + cycles_of(noc, "latency")) + link + cycles_of(l1, "fill_latency") + link;
  const double slice_hit = l2c(cycles_of(l2, "tag_latency") + cycles_of(l2, "data_latency"));
  u.l2_near_hit = to_slice + slice_hit + from_slice;
  // near slice misses -> fabric -> home slice hits -> fabric -> near slice fills
  const double crossing = l2c(2 * (link + cycles_of(noc, "far_latency") + link));
  u.l2_far_hit = to_slice + l2c(cycles_of(l2, "tag_latency")) + crossing + slice_hit + l2c(cycles_of(l2, "fill_latency")) +
                 from_slice;
  // DRAM: the controller's closed-bank read, ACT -> RD -> data (tRCD + tCL + tBURST), in core cycles
  const dram::HbmConfig dc =
      dram::resolve_hbm_config(dram::hbm_controller_params(hbm, "memory.hbm"), static_cast<std::uint64_t>(hbm.quantity("clock")));
  const double dram_core_cycles =
      static_cast<double>(dc.timing.tRCD + dc.timing.tCL + dc.timing.tBURST) * core_hz / hbm.quantity("clock");
  const double to_dram = l2c(link + cycles_of(l2, "controller_latency")) + link * core_hz / hbm.quantity("clock");
  const double from_dram = l2c(link + cycles_of(l2, "controller_latency") + link);
  const double slice_miss = l2c(cycles_of(l2, "tag_latency") + cycles_of(l2, "fill_latency"));
  u.l2_near_miss = to_slice + slice_miss + to_dram + dram_core_cycles + from_dram + from_slice;
  u.l2_far_miss = u.l2_near_miss + crossing + l2c(cycles_of(l2, "tag_latency") + cycles_of(l2, "fill_latency"));
  u.scratch = link + cycles_of(scratch, "latency") + link;
  u.remote_scratch = link + cycles_of(cluster, "latency") + link + cycles_of(scratch, "latency") + link +
                     cycles_of(cluster, "latency") + link;
  return u;
}

}  // namespace tilesim
