#include "common/text_table.h"

#include <algorithm>

namespace shadowai {

std::string TextTable::render() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t column = 0; column < headers_.size(); ++column) widths[column] = headers_[column].size();
  for (const auto& row : rows_) {
    for (size_t column = 0; column < row.size() && column < widths.size(); ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  auto renderRow = [&](const std::vector<std::string>& cells) {
    std::string line = " ";
    for (size_t column = 0; column < widths.size(); ++column) {
      const std::string cell = column < cells.size() ? cells[column] : "";
      line += " " + cell;
      if (column + 1 < widths.size()) line.append(widths[column] - cell.size() + 1, ' ');
    }
    return line + "\n";
  };
  std::string out = renderRow(headers_);
  for (const auto& row : rows_) out += renderRow(row);
  return out;
}

}  // namespace shadowai
