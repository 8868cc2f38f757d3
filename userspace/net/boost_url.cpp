// Boost.URL's compiled part. Debian ships it as a separate library package (libboost-url1.81.0);
// built here from its header-only form instead, so that the packages need no extra dependency.
#include <boost/url/src.hpp>
