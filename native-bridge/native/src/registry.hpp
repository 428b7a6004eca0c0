// Handles are 64-bit ids: [kind:8][generation:24][slot:32]. The registry maps them to objects and
// refuses anything it did not hand out, anything freed (the slot's generation moved on) and
// anything of another kind, so a bad handle from Java is an error message, never a wild pointer.
// Objects are shared_ptrs: a lookup keeps its object alive for the duration of a call even if
// another thread frees the handle meanwhile.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "errors.hpp"

namespace pm {

enum class Kind : uint8_t { Fabric = 1, Device, Stream, Event, Tensor, Comm };

const char* kind_name(Kind k);

class Registry {
 public:
  static Registry& get();

  // owner: the handle whose _free also frees this one (0 for none).
  uint64_t add(Kind kind, std::shared_ptr<void> obj, uint64_t owner);
  // what names the operand in error messages ("x", "stream s").
  std::shared_ptr<void> find(uint64_t h, Kind kind, const char* what);
  std::shared_ptr<void> remove(uint64_t h, Kind kind, const char* what);
  // Removes every handle owned by owner; the objects are returned so that their destructors run
  // outside the registry lock.
  std::vector<std::pair<Kind, std::shared_ptr<void>>> remove_owned(uint64_t owner);

 private:
  struct Slot {
    uint32_t gen = 0;
    Kind kind = Kind::Fabric;
    uint64_t owner = 0;
    std::shared_ptr<void> obj;
  };
  Slot& slot_of(uint64_t h, Kind kind, const char* what);

  std::mutex mu_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

template <class T>
std::shared_ptr<T> lookup(uint64_t h, const char* what) {
  return std::static_pointer_cast<T>(Registry::get().find(h, T::kKind, what));
}

template <class T>
std::shared_ptr<T> lookup_opt(uint64_t h, const char* what) {
  return h == 0 ? nullptr : lookup<T>(h, what);
}

template <class T>
std::shared_ptr<T> unregister(uint64_t h, const char* what) {
  return std::static_pointer_cast<T>(Registry::get().remove(h, T::kKind, what));
}

}  // namespace pm
