#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Installs the build into a temporary DESTDIR and uses only what was
installed: builds examples/c against the installed pkg-config file and runs
them, then runs the Python and gjs examples against the installed typelib,
Python override and gjs module.

usage: check-install.py  (all input comes from the environment that
tests/install/meson.build sets)
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ENV = os.environ
SOURCE_ROOT = ENV['NEBULA_SOURCE_ROOT']
BUILD_ROOT = ENV['NEBULA_BUILD_ROOT']
PREFIX = ENV['NEBULA_PREFIX']
LIBDIR = os.path.join(PREFIX, ENV['NEBULA_LIBDIR'])
DATADIR = os.path.join(PREFIX, ENV['NEBULA_DATADIR'])
INCLUDEDIR = os.path.join(PREFIX, ENV['NEBULA_INCLUDEDIR'])
PYTHON_DIR = ENV['NEBULA_PYTHON_DIR']
CC = shlex.split(ENV['NEBULA_CC'])
GJS = ENV.get('NEBULA_GJS', '')
EXAMPLES = os.path.join(SOURCE_ROOT, 'examples')
CHECK_OUTPUT = os.path.join(EXAMPLES, 'check-output.py')
FAILURES = []


def run(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def expect(condition, what):
    print(f'{"ok" if condition else "FAILED"}: {what}', flush=True)
    if not condition:
        FAILURES.append(what)


def check_example(env, expected, command, what):
    result = subprocess.run([sys.executable, CHECK_OUTPUT, expected] + command,
                            env=env, stdout=subprocess.DEVNULL, check=False)
    expect(result.returncode == 0, what)


def main():
    destdir = tempfile.mkdtemp(prefix='nebula-install-')
    try:
        run(['meson', 'install', '-C', BUILD_ROOT, '--no-rebuild', '--quiet',
             '--destdir', destdir], stdout=subprocess.DEVNULL)

        def installed(path):
            return destdir + path

        libdir = installed(LIBDIR)
        for path, what in [
                (os.path.join(libdir, 'libnebula-1.so.0'), 'the shared library'),
                (os.path.join(libdir, 'pkgconfig', 'nebula-1.pc'), 'the pkg-config file'),
                (os.path.join(installed(INCLUDEDIR), 'nebula-1', 'nebula.h'), 'nebula.h'),
                (os.path.join(installed(INCLUDEDIR), 'nebula-1', 'nebula-typed.h'),
                 'nebula-typed.h'),
                (os.path.join(installed(INCLUDEDIR), 'nebula-1', 'nebula-enums.h'),
                 'the generated enum header'),
                (os.path.join(installed(DATADIR), 'gir-1.0', 'Nebula-1.gir'), 'the GIR'),
                (os.path.join(libdir, 'girepository-1.0', 'Nebula-1.typelib'), 'the typelib'),
                (os.path.join(installed(PYTHON_DIR), 'gi', 'overrides', 'Nebula.py'),
                 'the Python override'),
                (os.path.join(installed(DATADIR), 'gjs-1.0', 'overrides', 'Nebula.js'),
                 'the gjs override'),
                (os.path.join(installed(DATADIR), 'nebula-1', 'js', 'nebula.js'),
                 'the gjs module')]:
            expect(os.path.exists(path), f'installs {what}')
        if os.path.isdir(os.path.join(BUILD_ROOT, 'docs', 'nebula-1')):
            expect(os.path.exists(os.path.join(installed(DATADIR), 'doc', 'nebula-1',
                                               'index.html')), 'installs the reference')
        if os.path.exists(os.path.join(BUILD_ROOT, 'introspection', 'nebula-1.vapi')):
            expect(os.path.exists(os.path.join(installed(DATADIR), 'vala', 'vapi',
                                               'nebula-1.vapi')), 'installs the Vala binding')
        # nebula-bench and the library it measures the call floor with are
        # for working on Nebula: they run from the build tree only.
        for path, what in [(installed(os.path.join(PREFIX, 'bin', 'nebula-bench')), 'nebula-bench'),
                           (os.path.join(libdir, 'nebula-1', 'libnebula-bench-floor.so'),
                            'libnebula-bench-floor.so')]:
            expect(not os.path.exists(path), f'does not install {what}')

        # C: compile and link with nothing but the installed pkg-config file,
        # relocated to DESTDIR (PKG_CONFIG_SYSROOT_DIR would move GLib too).
        pc_dir = os.path.join(destdir, 'pkgconfig')
        os.mkdir(pc_dir)
        with open(os.path.join(libdir, 'pkgconfig', 'nebula-1.pc'), encoding='utf-8') as f:
            pc = f.read()
        expect(f'prefix={PREFIX}\n' in pc, 'nebula-1.pc names the prefix')
        with open(os.path.join(pc_dir, 'nebula-1.pc'), 'w', encoding='utf-8') as f:
            f.write(pc.replace(f'prefix={PREFIX}\n', f'prefix={installed(PREFIX)}\n', 1))
        env = dict(ENV)
        env['PKG_CONFIG_PATH'] = pc_dir
        env['LD_LIBRARY_PATH'] = libdir
        env.pop('GI_TYPELIB_PATH', None)
        env.pop('PYTHONPATH', None)
        flags = run(['pkg-config', '--cflags', '--libs', 'nebula-1'], env=env,
                    stdout=subprocess.PIPE, text=True).stdout.split()
        for name in ('getting-started', 'request-arena', 'errors', 'fixed-pool', 'frame-stack'):
            exe = os.path.join(destdir, name)
            result = subprocess.run(CC + ['-o', exe, os.path.join(EXAMPLES, 'c', name + '.c')]
                                    + flags, env=env, check=False)
            expect(result.returncode == 0, f'examples/c/{name}.c builds against nebula-1.pc')
            if result.returncode == 0:
                check_example(env, os.path.join(EXAMPLES, 'c', name + '.expected'), [exe],
                              f'examples/c/{name} runs against the installed library')

        # Python and gjs: the installed typelib, override and module only.
        env['GI_TYPELIB_PATH'] = os.path.join(libdir, 'girepository-1.0')
        env['PYTHONPATH'] = installed(PYTHON_DIR)
        override = run([sys.executable, '-c',
                        'import gi; gi.require_version("Nebula", "1"); '
                        'from gi.repository import Nebula; import gi.overrides.Nebula as o; '
                        'print(o.__file__)'],
                       env=env, stdout=subprocess.PIPE, text=True).stdout.strip()
        expect(override.startswith(destdir), f'Python loads the installed override ({override})')
        for name in ('getting-started', 'errors', 'pool-records', 'frame-stack'):
            check_example(env, os.path.join(EXAMPLES, 'python', name + '.expected'),
                          [sys.executable,
                           os.path.join(EXAMPLES, 'python', name.replace('-', '_') + '.py')],
                          f'examples/python/{name} runs against the installed typelib')

        if GJS:
            check_example(env, os.path.join(EXAMPLES, 'js', 'getting-started.expected'),
                          [GJS, '-m', os.path.join(EXAMPLES, 'js', 'getting-started.js')],
                          'examples/js/getting-started runs against the installed typelib')
            # gjs finds the installed override through GJS_PATH (at /usr or
            # /usr/local it would need nothing): the request arena uses it.
            gjs_env = dict(env)
            gjs_env['GJS_PATH'] = os.path.join(installed(DATADIR), 'gjs-1.0')
            for name in ('request-arena', 'errors', 'frame-stack'):
                check_example(gjs_env, os.path.join(EXAMPLES, 'js', name + '.expected'),
                              [GJS, '-m', os.path.join(EXAMPLES, 'js', name + '.js')],
                              f'examples/js/{name} runs with the installed override')
            # The ES module re-exports the override's functions.
            module_url = 'file://' + os.path.join(installed(DATADIR), 'nebula-1', 'js',
                                                  'nebula.js')
            copy = os.path.join(destdir, 'module.js')
            with open(copy, 'w', encoding='utf-8') as f:
                f.write("import Nebula from 'gi://Nebula';\n"
                        f"import {{withScope}} from '{module_url}';\n"
                        "const bump = new Nebula.BumpAllocator({capacity: 64});\n"
                        "withScope(bump, b => b.allocate(8, 8));\n"
                        "print(bump.bytes_used);\n")
            result = subprocess.run([GJS, '-m', copy], env=gjs_env, stdout=subprocess.PIPE,
                                    text=True, check=False)
            expect(result.returncode == 0 and result.stdout.strip() == '0',
                   f'the installed nebula.js re-exports withScope ({result.stdout.strip()!r})')
    finally:
        shutil.rmtree(destdir, ignore_errors=True)

    if FAILURES:
        print(f'{len(FAILURES)} check(s) failed', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
