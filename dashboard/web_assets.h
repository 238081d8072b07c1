#pragma once
// The page's files (dashboard/web/*), compiled into the binary by
// embed_web_assets.sh so the image needs nothing beside it and no build step
// runs at serve time.
#include <string_view>
#include <vector>

namespace op::dashboard {

struct WebAsset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};
const std::vector<WebAsset>& WebAssets();

}  // namespace op::dashboard
