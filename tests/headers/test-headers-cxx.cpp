/* The same checks as test-headers.c, compiled as C++.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-headers.c"
