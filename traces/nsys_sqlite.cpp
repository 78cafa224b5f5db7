#include "traces/nsys_sqlite.hpp"

#include <fstream>
#include <memory>
#include <set>

#include <sqlite3.h>

#include "sim/error.hpp"

namespace tilesim::traces {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Stmt prepare(sqlite3* db, const std::string& sql, const std::string& file) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    throw InputError(cat(file, ": SQLite: ", sqlite3_errmsg(db), " (in: ", sql, ")"));
  return Stmt(raw);
}

bool has_table(sqlite3* db, const std::string& table, const std::string& file) {
  Stmt s = prepare(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1", file);
  sqlite3_bind_text(s.get(), 1, table.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(s.get()) == SQLITE_ROW;
}

std::set<std::string> columns_of(sqlite3* db, const std::string& table, const std::string& file) {
  std::set<std::string> out;
  Stmt s = prepare(db, "PRAGMA table_info(" + table + ")", file);
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1)));
  return out;
}

std::string list(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

bool is_sqlite_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[16] = {};
  in.read(magic, 16);
  return in.gcount() == 16 && std::string(magic, 15) == "SQLite format 3";
}

MeasuredTrace read_nsys_sqlite(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw InputError(cat(path, ": cannot open: no such file or not readable"));
  }
  if (!is_sqlite_file(path)) throw InputError(cat(path, ": not an SQLite database (expected an `nsys export --type sqlite` file)"));
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) throw InputError(cat(path, ": cannot open SQLite database: ", raw ? sqlite3_errmsg(raw) : "out of memory"));

  const std::string kernel_table = "CUPTI_ACTIVITY_KIND_KERNEL";
  if (!has_table(db.get(), kernel_table, path))
    throw InputError(cat(path, ": no table ", kernel_table, " (profile with `nsys profile --trace=cuda` and make sure kernels ran)"));
  if (!has_table(db.get(), "StringIds", path)) throw InputError(cat(path, ": no table StringIds (kernel names are ids into it)"));
  const auto cols = columns_of(db.get(), kernel_table, path);
  for (const char* c : {"start", "end", "deviceId"})
    if (!cols.count(c))
      throw InputError(cat(path, ": table ", kernel_table, ": missing column '", c, "' (columns: ", list(cols), ")"));
  const bool has_short = cols.count("shortName") > 0, has_demangled = cols.count("demangledName") > 0;
  if (!has_short && !has_demangled)
    throw InputError(cat(path, ": table ", kernel_table, ": missing column 'shortName' or 'demangledName' (columns: ", list(cols), ")"));
  const auto string_cols = columns_of(db.get(), "StringIds", path);
  for (const char* c : {"id", "value"})
    if (!string_cols.count(c))
      throw InputError(cat(path, ": table StringIds: missing column '", c, "' (columns: ", list(string_cols), ")"));
  const bool has_dims = cols.count("gridX") && cols.count("gridY") && cols.count("gridZ") && cols.count("blockX") &&
                        cols.count("blockY") && cols.count("blockZ");

  MeasuredTrace trace;
  trace.file = path;
  trace.format = "nsys-sqlite";
  if (has_table(db.get(), "TARGET_INFO_GPU", path)) {
    const auto gpu_cols = columns_of(db.get(), "TARGET_INFO_GPU", path);
    if (gpu_cols.count("id") && gpu_cols.count("name")) {
      Stmt s = prepare(db.get(), "SELECT id, name FROM TARGET_INFO_GPU", path);
      while (sqlite3_step(s.get()) == SQLITE_ROW)
        trace.devices[std::to_string(sqlite3_column_int64(s.get(), 0))] =
            reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    }
  }

  const std::string short_col = has_short ? "k.shortName" : "NULL";
  const std::string dem_col = has_demangled ? "k.demangledName" : "NULL";
  const std::string sql = cat(
      "SELECT k.rowid, k.start, k.end, k.deviceId, ", short_col, ", s1.value, ", dem_col, ", s2.value",
      has_dims ? ", k.gridX, k.gridY, k.gridZ, k.blockX, k.blockY, k.blockZ" : "", " FROM ", kernel_table,
      " AS k LEFT JOIN StringIds AS s1 ON s1.id = ", short_col, " LEFT JOIN StringIds AS s2 ON s2.id = ", dem_col,
      " ORDER BY k.start, k.rowid");
  Stmt s = prepare(db.get(), sql, path);
  int step;
  while ((step = sqlite3_step(s.get())) == SQLITE_ROW) {
    const long long rowid = sqlite3_column_int64(s.get(), 0);
    const auto text = [&](int col) -> std::string {
      const unsigned char* t = sqlite3_column_text(s.get(), col);
      return t ? reinterpret_cast<const char*>(t) : "";
    };
    const auto missing_string = [&](int id_col, int value_col, const char* column) {
      if (sqlite3_column_type(s.get(), id_col) != SQLITE_NULL && sqlite3_column_type(s.get(), value_col) == SQLITE_NULL)
        throw InputError(cat(path, ": table ", kernel_table, " row ", rowid, ": ", column, " id ",
                             sqlite3_column_int64(s.get(), id_col), " is not in StringIds"));
    };
    if (has_short) missing_string(4, 5, "shortName");
    if (has_demangled) missing_string(6, 7, "demangledName");
    if (sqlite3_column_type(s.get(), 1) == SQLITE_NULL || sqlite3_column_type(s.get(), 2) == SQLITE_NULL)
      throw InputError(cat(path, ": table ", kernel_table, " row ", rowid, ": start or end is NULL"));
    const long long start = sqlite3_column_int64(s.get(), 1), end = sqlite3_column_int64(s.get(), 2);
    if (end < start)
      throw InputError(cat(path, ": table ", kernel_table, " row ", rowid, ": end (", end, ") is before start (", start, ")"));
    MeasuredKernel k;
    k.full_name = text(7);
    k.name = has_short ? text(5) : k.full_name;
    if (k.name.empty()) k.name = k.full_name;
    k.start_ns = static_cast<double>(start);
    k.duration_ns = static_cast<double>(end - start);
    k.device = std::to_string(sqlite3_column_int64(s.get(), 3));
    if (has_dims) {
      k.grid = std::array<long long, 3>{sqlite3_column_int64(s.get(), 8), sqlite3_column_int64(s.get(), 9),
                                        sqlite3_column_int64(s.get(), 10)};
      k.block = std::array<long long, 3>{sqlite3_column_int64(s.get(), 11), sqlite3_column_int64(s.get(), 12),
                                         sqlite3_column_int64(s.get(), 13)};
    }
    trace.kernels.push_back(std::move(k));
  }
  if (step != SQLITE_DONE) throw InputError(cat(path, ": SQLite: ", sqlite3_errmsg(db.get())));
  return trace;
}

}  // namespace tilesim::traces
