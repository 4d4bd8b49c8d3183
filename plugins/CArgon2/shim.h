#ifndef IDENTITYD_CARGON2_SHIM_H
#define IDENTITYD_CARGON2_SHIM_H
#include <argon2.h>
#endif
