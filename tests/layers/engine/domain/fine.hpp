#pragma once
#include "engine/core/error.hpp"
