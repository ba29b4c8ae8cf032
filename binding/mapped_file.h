// The MappedFile class: a read-only mapping of a whole file (the core's
// rp::MappedFile), shared with the prefetch queues that read it, so the
// mapping lives until the last of them is gone.
#pragma once
#include <napi.h>

#include <memory>

#include "rp/mapped_file.h"

namespace rpb {

// The mapping behind a MappedFile object, or null if value is not one.
std::shared_ptr<rp::MappedFile> MappedFileOf(const Napi::Value& value);

}  // namespace rpb
