#include "registry.hpp"

namespace pm {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Fabric: return "fabric";
    case Kind::Device: return "device";
    case Kind::Stream: return "stream";
    case Kind::Event: return "event";
    case Kind::Tensor: return "tensor";
    case Kind::Comm: return "communicator";
  }
  return "?";
}

Registry& Registry::get() {
  static Registry* r = new Registry();  // never destroyed: executor threads may outlive statics
  return *r;
}

uint64_t Registry::add(Kind kind, std::shared_ptr<void> obj, uint64_t owner) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = (uint32_t)slots_.size();
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.gen = (s.gen + 1) & 0xFFFFFF;
  if (s.gen == 0) s.gen = 1;  // generation 0 never appears, so no live handle is 0
  s.kind = kind;
  s.owner = owner;
  s.obj = std::move(obj);
  return ((uint64_t)kind << 56) | ((uint64_t)s.gen << 32) | index;
}

Registry::Slot& Registry::slot_of(uint64_t h, Kind kind, const char* what) {
  if (h == 0) fail(PM_ERR_HANDLE, strf("%s is the null handle", what));
  Kind hk = (Kind)(h >> 56);
  uint32_t gen = (uint32_t)(h >> 32) & 0xFFFFFF;
  uint32_t index = (uint32_t)h;
  if ((uint8_t)hk < (uint8_t)Kind::Fabric || (uint8_t)hk > (uint8_t)Kind::Comm || index >= slots_.size())
    fail(PM_ERR_HANDLE, strf("%s (0x%llx) is not a handle of this runtime", what, (unsigned long long)h));
  if (hk != kind)
    fail(PM_ERR_HANDLE, strf("%s is a %s handle, not a %s", what, kind_name(hk), kind_name(kind)));
  Slot& s = slots_[index];
  if (s.gen != gen || !s.obj)
    fail(PM_ERR_HANDLE, strf("%s (%s 0x%llx) was freed", what, kind_name(kind), (unsigned long long)h));
  return s;
}

std::shared_ptr<void> Registry::find(uint64_t h, Kind kind, const char* what) {
  std::lock_guard<std::mutex> lock(mu_);
  return slot_of(h, kind, what).obj;
}

std::shared_ptr<void> Registry::remove(uint64_t h, Kind kind, const char* what) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = slot_of(h, kind, what);
  std::shared_ptr<void> obj = std::move(s.obj);
  s.obj.reset();
  free_.push_back((uint32_t)h);
  return obj;
}

std::vector<std::pair<Kind, std::shared_ptr<void>>> Registry::remove_owned(uint64_t owner) {
  std::vector<std::pair<Kind, std::shared_ptr<void>>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (uint32_t i = 0; i < slots_.size(); i++) {
    Slot& s = slots_[i];
    if (s.obj && s.owner == owner) {
      out.emplace_back(s.kind, std::move(s.obj));
      s.obj.reset();
      free_.push_back(i);
    }
  }
  return out;
}

}  // namespace pm
