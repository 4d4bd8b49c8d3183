#ifndef IDENTITYD_CHIREDIS_SHIM_H
#define IDENTITYD_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
