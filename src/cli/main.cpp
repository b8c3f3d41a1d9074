// smppd command line: the daemon and its subcommands. Only parses arguments and hands over.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"smppd: SMPP gateway, router, load balancer and proxy"};
  app.set_version_flag("--version", std::string("smppd 0.1.0"));
  std::string config_path = "/etc/smppd/smppd.yaml";
  app.add_option("-c,--config", config_path, "Configuration file (YAML)");

  auto* validate = app.add_subcommand("validate", "Check a configuration file and exit");
  validate->add_option("-c,--config", config_path, "Configuration file (YAML)");

  CLI11_PARSE(app, argc, argv);

  // The daemon, its configuration loader and its subcommands arrive with the issue
  // "SMPP sessions and the daemon"; until then smppd says so instead of pretending to run.
  std::fprintf(stderr,
               "smppd: the SMPP protocol library is built; the daemon (listeners, sessions, "
               "config loading of %s) is not implemented yet\n",
               config_path.c_str());
  return 3;
}
