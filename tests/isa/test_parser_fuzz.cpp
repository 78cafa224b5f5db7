// Seeded random + mutation testing of the .tile parser (100k+ inputs): mutations of the example kernels
// (byte flips, token deletion/duplication/splicing, truncation), random token soup and deep nesting.
// For every input: no crash, no hang, no exception other than InputError; every rejection reads
// `file:line:col: error: ...` and shows a caret line; every accepted input prints to text that parses
// back to the same text, and the verifier runs on it without throwing.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <regex>

#include "isa/opcodes.hpp"
#include "isa/text_parser.hpp"
#include "isa/text_printer.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"
#include "tile_test_files.hpp"

using namespace tilesim::isa;

namespace {

/// Split text into lexical-ish pieces (name runs, number runs, single punctuation, whitespace runs) so
/// mutations delete/duplicate/splice whole tokens most of the time.
std::vector<std::string> pieces_of(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '%' || c == '@'; };
  while (i < text.size()) {
    size_t j = i + 1;
    if (word(text[i])) {
      while (j < text.size() && word(text[j])) ++j;
    } else if (std::isspace(static_cast<unsigned char>(text[i]))) {
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    }
    out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string join(const std::vector<std::string>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p;
  return s;
}

class InputGenerator {
 public:
  explicit InputGenerator(uint64_t seed) : rng_(seed) {
    for (const auto& path : testing::all_tile_files()) seeds_.push_back(testing::read_text(path));
    for (const auto& s : seeds_) seed_pieces_.push_back(pieces_of(s));
    for (const auto& row : opcode_table()) vocab_.emplace_back(row.name);
    for (const char* w : {"kernel", "@k", "(", ")", "{", "}", "[", "]", "<", ">", ",", ":", "=", "+", "-", "*", "/",
                          "!token", "tile", "global", "index", "f32", "bf16", "i1", "i32", "@reg", "@scratch", "@acc",
                          "%a", "%b", "%t", "%c0", "M", "N", "grid", "cluster", "resources", "scratch=", "warps=",
                          "role", "channel", "stages=", "of", "for", "to", "step", "iter", "if", "else", "after",
                          "axis=", "keepdims=", "true", "0", "1", "128", "-inf", "1.5", "1e999", "99999999999999999999",
                          "\n", "\n", "\n", " ", " ", "\t", "//c\n", "#c\n", "\xc3\x97", "x2", "cdiv(", "ceil("})
      vocab_.emplace_back(w);
  }

  std::string next() {
    const int kind = pick(100);
    if (kind < 40) return mutate_tokens(pick_seed());
    if (kind < 60) return flip_bytes(pick_seed());
    if (kind < 70) return splice();
    if (kind < 85) return soup();
    if (kind < 93) return deep_nesting();
    return truncate(pick_seed());
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  size_t pick_seed_index() { return static_cast<size_t>(pick(static_cast<int>(seeds_.size()))); }
  const std::string& pick_seed() { return seeds_[pick_seed_index()]; }

  std::string mutate_tokens(const std::string&) {
    std::vector<std::string> p = seed_pieces_[pick_seed_index()];
    const int n = 1 + pick(4);
    for (int m = 0; m < n && !p.empty(); ++m) {
      const size_t at = static_cast<size_t>(pick(static_cast<int>(p.size())));
      switch (pick(4)) {
        case 0: p.erase(p.begin() + static_cast<long>(at)); break;                        // delete
        case 1: p.insert(p.begin() + static_cast<long>(at), p[at]); break;               // duplicate
        case 2: p[at] = vocab_[static_cast<size_t>(pick(static_cast<int>(vocab_.size())))]; break;  // replace
        default: p.insert(p.begin() + static_cast<long>(at), vocab_[static_cast<size_t>(pick(static_cast<int>(vocab_.size())))]);
      }
    }
    return join(p);
  }

  std::string flip_bytes(std::string s) {
    const int n = 1 + pick(8);
    for (int m = 0; m < n && !s.empty(); ++m) s[static_cast<size_t>(pick(static_cast<int>(s.size())))] = static_cast<char>(pick(256));
    return s;
  }

  std::string splice() {
    const auto& a = seed_pieces_[pick_seed_index()];
    const auto& b = seed_pieces_[pick_seed_index()];
    const size_t cut = static_cast<size_t>(pick(static_cast<int>(a.size()) + 1));
    const size_t from = static_cast<size_t>(pick(static_cast<int>(b.size()) + 1));
    const size_t len = static_cast<size_t>(pick(60));
    std::vector<std::string> out(a.begin(), a.begin() + static_cast<long>(cut));
    for (size_t i = from; i < b.size() && i < from + len; ++i) out.push_back(b[i]);
    out.insert(out.end(), a.begin() + static_cast<long>(cut), a.end());
    return join(out);
  }

  std::string soup() {
    std::string s = pick(2) ? "kernel @k(%A: global<f32>[M, 64], M: i32) {\n" : "";
    const int n = pick(120);
    for (int i = 0; i < n; ++i) {
      s += vocab_[static_cast<size_t>(pick(static_cast<int>(vocab_.size())))];
      if (pick(3)) s += ' ';
    }
    if (pick(2)) s += "\n}\n";
    return s;
  }

  std::string deep_nesting() {
    const int depth = 1 + pick(300);
    switch (pick(4)) {
      case 0: {  // nested regions
        std::string s = "kernel @k() {\n  %p = const true : i1\n";
        for (int i = 0; i < depth; ++i) s += "if %p {\n";
        for (int i = 0; i < depth - pick(3); ++i) s += "}\n";
        return s + "}\n";
      }
      case 1:  // nested parentheses in the grid
        return "kernel @k() grid(" + std::string(static_cast<size_t>(depth), '(') + "1" +
               std::string(static_cast<size_t>(depth - pick(2)), ')') + ") {\n}\n";
      case 2:  // unary minus chains
        return "kernel @k() grid(" + std::string(static_cast<size_t>(depth), '-') + "1) {\n}\n";
      default: {  // nested loops
        std::string s = "kernel @k() {\n  %c = const 0 : index\n";
        for (int i = 0; i < depth; ++i) s += "for %i" + std::to_string(i) + " = %c to %c step %c {\n";
        for (int i = 0; i < depth; ++i) s += "}\n";
        return s + "}\n";
      }
    }
  }

  std::string truncate(const std::string& s) { return s.substr(0, static_cast<size_t>(pick(static_cast<int>(s.size()) + 1))); }

  std::mt19937_64 rng_;
  std::vector<std::string> seeds_;
  std::vector<std::vector<std::string>> seed_pieces_;
  std::vector<std::string> vocab_;
};

bool has_caret_line(const std::string& msg) {
  // a line made of the gutter (" <spaces> | "), then spaces/tabs, then '^'
  size_t pos = 0;
  while ((pos = msg.find('\n', pos)) != std::string::npos) {
    ++pos;
    size_t i = pos;
    while (i < msg.size() && msg[i] == ' ') ++i;
    if (i + 1 >= msg.size() || msg[i] != '|' || msg[i + 1] != ' ') continue;
    i += 2;
    while (i < msg.size() && (msg[i] == ' ' || msg[i] == '\t')) ++i;
    if (i < msg.size() && msg[i] == '^' && (i + 1 == msg.size() || msg[i + 1] == '\n')) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("parser fuzz: 100k mutated and random inputs never crash, hang or misreport", "[parser][fuzz]") {
  constexpr int kInputs = 100000;
  InputGenerator gen(0x7115E5EEDULL);
  const std::regex header(R"(^[^:\n]+:\d+:\d+: error: )");
  int accepted = 0, rejected = 0;
  double worst_seconds = 0.0;
  std::string worst_input;
  const auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < kInputs; ++n) {
    const std::string input = gen.next();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const Module m = parse_module(input, "fuzz.tile");
      const std::string p1 = print_module(m);
      std::string p2;
      try {
        p2 = print_module(parse_module(p1, "printed.tile"));
      } catch (const tilesim::InputError& e) {
        INFO("input:\n" << input << "\nprinted:\n" << p1 << "\nerror: " << e.what());
        FAIL("printed text of an accepted input does not parse");
      }
      if (p1 != p2) {
        INFO("input:\n" << input << "\nfirst print:\n" << p1 << "\nsecond print:\n" << p2);
        FAIL("print -> parse -> print is not a fixed point");
      }
      (void)verify(m);
      ++accepted;
    } catch (const tilesim::InputError& e) {
      const std::string msg = e.what();
      if (!std::regex_search(msg, header) || !has_caret_line(msg)) {
        INFO("input:\n" << input << "\nmessage:\n" << msg);
        FAIL("a rejection is not `file:line:col: error:` with a caret line");
      }
      ++rejected;
    } catch (const std::exception& e) {
      INFO("input:\n" << input);
      FAIL("unexpected exception: " << e.what());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (seconds > worst_seconds) {
      worst_seconds = seconds;
      worst_input = input.substr(0, 200);
    }
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("accepted " << accepted << ", rejected " << rejected << ", total " << total << " s, slowest input "
                   << worst_seconds << " s: " << worst_input);
  CHECK(accepted + rejected == kInputs);
  CHECK(accepted > 100);     // the mutations keep some inputs valid,
  CHECK(rejected > 50000);   // and most are not
  CHECK(worst_seconds < 0.5);  // no input is pathologically slow (linear-time parsing)
  CHECK(total < 60.0);
}
