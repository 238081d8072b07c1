#include "ops/stack/supervisor.h"

#include "ops/stack/console.h"

namespace op::stack {

Unit& Supervisor::Add(std::unique_ptr<Unit> unit, std::function<void()> after_restart) {
  std::lock_guard lock(mu_);
  entries_.push_back({std::move(unit), std::move(after_restart)});
  return *entries_.back().unit;
}

Supervisor::Entry* Supervisor::FindLocked(const std::string& name) {
  for (auto& e : entries_)
    if (e.unit->name() == name) return &e;
  return nullptr;
}

void Supervisor::Tick(Clock::time_point now) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_) TickLocked(e, now);
}

void Supervisor::TickLocked(Entry& e, Clock::time_point now) {
  if (e.held) return;
  if (e.unit->Running()) {
    if (e.up_since == Clock::time_point{}) e.up_since = now;
    // Healthy for a while: the next crash is a new story, not the sixth of a series.
    if (e.restarts > 0 && now - e.up_since >= kHealthyAfter) e.restarts = 0;
    return;
  }
  e.up_since = {};
  const std::string& name = e.unit->name();
  if (e.restart_at == Clock::time_point{}) {
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(backoff_.Cap(e.restarts + 1));
    std::string last = e.unit->LastWords();
    Say("stack", name + " exited; restarting in " + std::to_string(wait.count()) + " s" +
                     (last.empty() ? "" : " (its last line: " + last + ")"));
    e.restart_at = now + wait;
    return;
  }
  if (now < e.restart_at) return;
  e.restarts++;
  e.total_restarts++;
  e.restart_at = {};
  try {
    e.unit->Launch();
  } catch (const std::exception& ex) {  // the next Tick schedules another try, later
    Say("stack", name + " did not start: " + ex.what());
    return;
  }
  if (e.after_restart) e.after_restart();
}

bool Supervisor::Hold(const std::string& name) {
  std::lock_guard lock(mu_);
  auto* e = FindLocked(name);
  if (!e) return false;
  e->held = true;
  e->restart_at = {};
  e->unit->Stop();
  return true;
}

bool Supervisor::Release(const std::string& name) {
  std::lock_guard lock(mu_);
  auto* e = FindLocked(name);
  if (!e) return false;
  if (e->held) {
    e->held = false;
    e->restarts = 0;
    e->restart_at = Clock::now();  // at the next Tick, no backoff
  }
  return true;
}

std::string Supervisor::StateLocked(Entry& e) { return e.held ? "DOWN" : e.unit->Running() ? "UP" : "RESTARTING"; }

std::string Supervisor::State(const std::string& name) {
  std::lock_guard lock(mu_);
  auto* e = FindLocked(name);
  return e ? StateLocked(*e) : "";
}

std::vector<Supervisor::Program> Supervisor::Programs() {
  std::lock_guard lock(mu_);
  std::vector<Program> out;
  for (auto& e : entries_) out.push_back({e.unit->name(), StateLocked(e), e.total_restarts});
  return out;
}

std::chrono::milliseconds Supervisor::NextBackoff(const std::string& name) {
  std::lock_guard lock(mu_);
  auto* e = FindLocked(name);
  return e ? backoff_.Cap(e->restarts + 1) : std::chrono::milliseconds(0);
}

void Supervisor::Restart(const std::function<bool(const Unit&)>& pick) {
  // With the lock held by TickLocked's after_restart: no locking here.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (!it->held && (!pick || pick(*it->unit))) {
      it->unit->Stop();
      it->restarts = 0;
      it->restart_at = Clock::now();
    }
}

void Supervisor::StopAll() {
  std::lock_guard lock(mu_);
  for (size_t end = entries_.size(); end > 0;) {
    size_t begin = end - 1;
    const std::string group = entries_[begin].unit->group();
    while (!group.empty() && begin > 0 && entries_[begin - 1].unit->group() == group) --begin;
    for (size_t i = end; i-- > begin;) entries_[i].unit->Signal();
    for (size_t i = end; i-- > begin;) entries_[i].unit->Stop();
    end = begin;
  }
}

}  // namespace op::stack
