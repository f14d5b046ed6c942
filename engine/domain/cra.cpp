#include "engine/domain/cra.hpp"

namespace casekit {

CraAnswer LocalCra::search(Id client) {
  const Client c = casegroups_.client(client);
  if (!c.address || c.address->status != "confirmed") {
    return {false, "no Confirmed Permanent Residential address for " + c.name +
                       ": the CRA returned no financial data"};
  }
  return {true, "credit information for " + c.name + " at " + c.address->line1 +
                    (c.address->postcode ? ", " + *c.address->postcode : std::string())};
}

CraAnswer FailingCra::search(Id client) {
  if (const auto it = failures_.find("search"); it != failures_.end()) return {false, it->second};
  return real_.search(client);
}

CraAnswer CraInterface::search(Id client) {
  casegroups_.client(client);  // a wrong id is an error, whatever the adapter
  return adapter_->search(client);
}

}  // namespace casekit
