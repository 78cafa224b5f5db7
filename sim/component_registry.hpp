// The registry of component kinds that a system config can instantiate by `kind:`.
#pragma once

#include "sim/component.hpp"
#include "sim/registry.hpp"

namespace tilesim {

using ComponentRegistry = Registry<Component, ComponentContext>;

/// Registers component type T under `name`. T provides `static ParamSchema param_schema()` and a
/// constructor taking `const ComponentContext&`.
template <class T>
struct RegisterComponent {
  RegisterComponent(const char* name, const char* description) {
    ComponentRegistry::instance().add(
        {name, description,
         [name] {
           ParamSchema s = T::param_schema();
           s.set_kind(name);
           return s;
         },
         [](const ComponentContext& ctx) -> std::unique_ptr<Component> { return std::make_unique<T>(ctx); }});
  }
};

}  // namespace tilesim
