// Leptonica's whole public API; ImageDecoder uses its in-memory readers.
#include <leptonica/allheaders.h>
