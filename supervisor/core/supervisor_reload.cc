// Live reload: a new, valid configuration applied to the running set. See
// the essay in supervisor.h: removed services stop (after their removed
// dependents), changed ones stop, take their new definition and start again,
// added ones start in dependency order, unchanged ones are not touched (same
// process). "Changed" is the complete effective definition: every key of
// the service (same_definition) and the plan derived from it (environment,
// identity, limits, …), so that an edit to an env file or to /etc/passwd
// counts too.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "supervisor.h"

namespace sv {

namespace {

std::string join(const std::vector<std::string>& names) {
    if (names.empty()) return "-";
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

std::string ReloadSummary::text() const {
    return "added: " + join(added) + "; removed: " + join(removed) +
           "; restarted: " + join(changed) + "; unchanged: " + std::to_string(unchanged);
}

bool Supervisor::reload(const Config& config, const RunContext& context, ReloadSummary& summary,
                        std::string& error) {
    if (refuse_while_shutting_down(error)) {
        error = "cannot reload: " + error;
        return false;
    }
    const bool single = mode_ == RunMode::SingleCommand;
    std::vector<Service> current;  // the new configuration's, in its order
    std::vector<Service> leaving;  // removed ones (and ones still leaving from before)
    current.reserve(config.services.size());
    std::vector<bool> taken(services_.size(), false);
    // The services of the running configuration by name (unique there; the
    // ones still leaving from an earlier reload sit past graph_.size()).
    std::unordered_map<std::string, std::size_t> running;  // copies: entries move below
    for (std::size_t k = 0; k < graph_.size() && k < services_.size(); ++k)
        running.emplace(services_[k].name(), k);
    for (std::size_t i = 0; i < config.services.size(); ++i) {
        const ServiceConfig& cfg = config.services[i];
        SpawnPlan plan = plan_service(cfg, context, i, single);
        std::size_t old = services_.size();
        if (auto it = running.find(cfg.name); it != running.end() && !taken[it->second])
            old = it->second;
        if (old == services_.size()) {
            current.emplace_back(next_id_++, cfg, std::move(plan), sys_, log_);
            summary.added.push_back(cfg.name);
            continue;
        }
        taken[old] = true;
        Service& s = services_[old];
        if (same_definition(s.config(), cfg) && s.plan() == plan) {
            ++summary.unchanged;
        } else {
            // Stopped (at once, without waiting for its dependents, which
            // keep running), redefined, and released once down.
            redefinitions_.push_back({s.id(), cfg, std::move(plan)});
            pending_stops_.push_back({s.id(), {}, false});
            summary.changed.push_back(cfg.name);
        }
        current.push_back(std::move(s));
    }
    // Removed services stop after those of their old dependents that leave too.
    std::vector<std::size_t> removed_ids;
    for (std::size_t k = 0; k < services_.size(); ++k)
        if (!taken[k] && k < graph_.size()) removed_ids.push_back(services_[k].id());
    for (std::size_t k = 0; k < services_.size(); ++k) {
        if (taken[k]) continue;
        Service& s = services_[k];
        if (k < graph_.size()) {
            PendingStop p{s.id(), {}, false};
            for (std::size_t d : dependent_ids(k))
                if (std::find(removed_ids.begin(), removed_ids.end(), d) != removed_ids.end())
                    p.after.push_back(d);
            pending_stops_.push_back(std::move(p));
            remove_when_down_.push_back(s.id());
            summary.removed.push_back(s.name());
        }
        leaving.push_back(std::move(s));
    }
    services_ = std::move(current);
    for (Service& s : leaving) services_.push_back(std::move(s));
    reindex();
    config_ = config;
    graph_ = Graph(config_);
    log_.log(Level::Info, "", "reloaded", "reloaded " + config_.file + ": " + summary.text());
    propagate(sys_.now());
    return true;
}

}  // namespace sv
