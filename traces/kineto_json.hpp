// PyTorch profiler / Kineto trace JSON (`prof.export_chrome_trace("trace.json")`, also .json.gz) and any
// Chrome trace with Kineto-style kernel events, including tilesim's own timeline: complete events
// {"ph": "X", "cat": "kernel", "name", "ts" (us), "dur" (us), "args": {"device", "stream", "grid", "block"}}
// in "traceEvents"; device names from "deviceProperties": [{"id", "name"}]. The file is read with a SAX
// parser, so only the kernel events are kept in memory.
#pragma once

#include <string>

#include "traces/measured_trace.hpp"

namespace tilesim::traces {

/// Read the kernel events (format "kineto", or "tilesim-trace" when otherData.generator is "tilesim").
/// Throws InputError `file:line:col: JSON syntax error ...` or naming the offending event.
MeasuredTrace read_kineto_json(const std::string& path);

}  // namespace tilesim::traces
