// Owners for what Vectorscan hands out (databases, scratch, compile errors, expression info), so no
// path (early return, error) leaks one and every one is freed the way Vectorscan says. Here, in the
// lowest folder that uses Vectorscan, so mask/ and the folders above it (policy/) share one set.
#pragma once

#include <hs.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace shadowai {

struct VectorscanDatabaseDeleter {
  void operator()(hs_database_t* database) const { hs_free_database(database); }
};
struct VectorscanScratchDeleter {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};
struct VectorscanCompileErrorDeleter {
  void operator()(hs_compile_error_t* error) const { hs_free_compile_error(error); }
};
// hs_expression_info allocates with the "misc" allocator, which is malloc as long as nobody calls
// hs_set_misc_allocator (shadowai never does); it has no hs_free_* of its own.
struct VectorscanExpressionInfoDeleter {
  void operator()(hs_expr_info_t* info) const { std::free(info); }
};

using VectorscanDatabasePtr = std::unique_ptr<hs_database_t, VectorscanDatabaseDeleter>;
using VectorscanScratchPtr = std::unique_ptr<hs_scratch_t, VectorscanScratchDeleter>;
using VectorscanCompileErrorPtr = std::unique_ptr<hs_compile_error_t, VectorscanCompileErrorDeleter>;
using VectorscanExpressionInfoPtr = std::unique_ptr<hs_expr_info_t, VectorscanExpressionInfoDeleter>;

// ERROR's message, or FALLBACK when Vectorscan gave none.
inline std::string compileErrorMessage(const VectorscanCompileErrorPtr& error, const char* fallback) {
  return error != nullptr && error->message != nullptr ? error->message : fallback;
}

// The compile calls with owned results: the result (info, database) on success, else the error.
struct VectorscanExpressionInfo {
  VectorscanExpressionInfoPtr info;
  VectorscanCompileErrorPtr error;
};
inline VectorscanExpressionInfo describeExpression(const char* expression, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* error = nullptr;
  hs_expression_info(expression, flags, &info, &error);
  return {VectorscanExpressionInfoPtr(info), VectorscanCompileErrorPtr(error)};
}

struct VectorscanCompiled {
  VectorscanDatabasePtr database;
  VectorscanCompileErrorPtr error;
};
inline VectorscanCompiled compileExpression(const char* expression, unsigned flags, unsigned mode) {
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  hs_compile(expression, flags, mode, nullptr, &database, &error);
  return {VectorscanDatabasePtr(database), VectorscanCompileErrorPtr(error)};
}
// COUNT expressions, each with its flags and the id its matches report.
inline VectorscanCompiled compileExpressions(const char* const* expressions, const unsigned* flags,
                                             const unsigned* ids, unsigned count, unsigned mode) {
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  hs_compile_multi(expressions, flags, ids, count, mode, nullptr, &database, &error);
  return {VectorscanDatabasePtr(database), VectorscanCompileErrorPtr(error)};
}

}  // namespace shadowai
