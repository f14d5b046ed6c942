#pragma once
#include "engine/domain/engine.hpp"
