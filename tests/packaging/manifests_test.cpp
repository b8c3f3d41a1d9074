// The deployment files agree with each other and with smppd: the Kubernetes manifests
// (deploy/kubernetes), the Compose file (deploy/compose) and the Dockerfile. Every smppd
// configuration they carry is loaded by smppd's own loader; ports, probe paths, volumes,
// secrets and the shutdown grace are cross-checked. No cluster is needed (no kubectl here):
// this is what can be checked offline, by structure rather than by the API server's schema.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/yaml_tree.hpp"

namespace {

namespace fs = std::filesystem;
namespace yaml = smppd::config::yaml;

const fs::path kRoot = SMPPD_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A parsed file, kept alive with its nodes.
struct Yaml {
  std::unique_ptr<yaml::Document> doc;
  yaml::Node root() const { return doc->root(); }
};

Yaml parse(const fs::path& p) {
  Yaml y{yaml::Document::parse(read(p))};
  EXPECT_TRUE(y.doc->error() == nullptr) << p << ": " << y.doc->error()->message;
  return y;
}

// The items of a sequence (none for anything else). A copy: Node::items() refers to the node
// it was called on, which must outlive the loop.
std::vector<yaml::Node> list(yaml::Node n) {
  std::vector<yaml::Node> out;
  for (std::size_t i = 0; n.IsSequence() && i < n.size(); ++i) out.push_back(n.item(i));
  return out;
}

std::string text(yaml::Node n) { return n.IsScalar() ? std::string(n.Scalar()) : std::string(); }

// Follows a path of keys ("spec.template.spec"); undefined when one is missing.
yaml::Node at(yaml::Node n, const std::string& dotted) {
  std::stringstream s(dotted);
  std::string key;
  while (n.IsDefined() && std::getline(s, key, '.')) n = n.find(key);
  return n;
}

std::map<std::string, std::string> string_map(yaml::Node n) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; n.IsMap() && i < n.size(); ++i) out[text(n.key(i))] = text(n.value(i));
  return out;
}

bool contains(const std::map<std::string, std::string>& all, const std::map<std::string, std::string>& some) {
  for (const auto& [k, v] : some) {
    auto it = all.find(k);
    if (it == all.end() || it->second != v) return false;
  }
  return !some.empty();
}

// The ${NAME}s a configuration reads from the environment (comment lines left out).
std::set<std::string> env_names(const std::string& config) {
  std::set<std::string> out;
  static const std::regex var(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
  std::stringstream lines(config);
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] == '#') continue;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), var); it != std::sregex_iterator(); ++it) {
      out.insert((*it)[1].str());
    }
  }
  return out;
}

// Loads a configuration as smppd would, every ${NAME} set; files (certificates, folders of
// the target machine) are not looked for. Returns its listeners' ports by name.
std::map<std::string, int> load(const std::string& config, const std::string& name,
                                const std::set<std::string>& env) {
  smppd::config::LoadOptions options;
  options.check_files = false;
  auto lookup = [&env](std::string_view n) -> std::optional<std::string> {
    if (env.count(std::string(n)) == 0) return std::nullopt;
    return std::string("x");
  };
  const auto r = smppd::config::load_config_string(config, name, lookup, options);
  std::string errors;
  for (const auto& e : r.errors) errors += e.to_string() + "\n";
  for (const auto& w : r.warnings) errors += w.to_string() + "\n";
  EXPECT_TRUE(r.ok() && r.warnings.empty()) << errors;
  std::map<std::string, int> ports;
  if (!r.ok()) return ports;
  for (const auto& l : r.config->listeners) {
    ports[l.name] = l.address.port;
    if (l.type == smppd::config::ListenerType::http) ports["<http>"] = l.address.port;
  }
  const auto& m = r.config->metrics;
  if (m.enabled && m.prometheus_enabled) {
    ports["<metrics>"] = m.prometheus_address.host.empty() ? m.prometheus_port : m.prometheus_address.port;
  }
  return ports;
}

class Kubernetes : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path dir = kRoot / "deploy/kubernetes";
    kustomization_ = parse(dir / "kustomization.yaml");
    for (yaml::Node r : list(at(kustomization_.root(), "resources"))) {
      Yaml y = parse(dir / text(r));
      const std::string kind = text(y.root().find("kind"));
      const std::string name = text(at(y.root(), "metadata.name"));
      ASSERT_FALSE(kind.empty()) << text(r);
      ASSERT_FALSE(name.empty()) << text(r);
      files_.push_back(text(r));
      docs_[kind + "/" + name] = std::move(y);
    }
  }

  yaml::Node doc(const std::string& key) {
    auto it = docs_.find(key);
    if (it == docs_.end()) {
      ADD_FAILURE() << "no " << key << " in deploy/kubernetes";
      return {};
    }
    return it->second.root();
  }

  yaml::Node container() {
    yaml::Node c = at(doc("Deployment/smppd"), "spec.template.spec.containers");
    return c.IsSequence() && c.size() == 1 ? c.item(0) : yaml::Node();
  }

  Yaml kustomization_;
  std::vector<std::string> files_;
  std::map<std::string, Yaml> docs_;
};

TEST_F(Kubernetes, EveryFileIsListedAndEveryObjectHasItsApiVersion) {
  std::set<std::string> listed(files_.begin(), files_.end());
  for (const auto& e : fs::directory_iterator(kRoot / "deploy/kubernetes")) {
    const std::string name = e.path().filename().string();
    if (name != "kustomization.yaml") {
      EXPECT_TRUE(listed.count(name)) << name << " is not in kustomization.yaml";
    }
  }
  const std::map<std::string, std::string> versions{{"Deployment", "apps/v1"},
                                                    {"Service", "v1"},
                                                    {"ConfigMap", "v1"},
                                                    {"Secret", "v1"},
                                                    {"PersistentVolumeClaim", "v1"}};
  for (const auto& [key, y] : docs_) {
    const std::string kind = key.substr(0, key.find('/'));
    ASSERT_TRUE(versions.count(kind)) << key;
    EXPECT_EQ(text(y.root().find("apiVersion")), versions.at(kind)) << key;
  }
}

TEST_F(Kubernetes, TheConfigLoadsAndThePodServesWhatItListensOn) {
  const std::string config = text(at(doc("ConfigMap/smppd-config"), "data").find("smppd.yaml"));
  ASSERT_FALSE(config.empty());
  // Every ${NAME} comes from the Secret the pod reads its environment from.
  const auto secret = string_map(at(doc("Secret/smppd-secrets"), "stringData"));
  std::set<std::string> env;
  for (const auto& [k, v] : secret) env.insert(k);
  for (const auto& n : env_names(config)) EXPECT_TRUE(env.count(n)) << "${" << n << "} is not in the Secret";
  const auto ports = load(config, "configmap.yaml:smppd.yaml", env);

  yaml::Node c = container();
  ASSERT_TRUE(c.IsDefined());
  EXPECT_EQ(text(at(c, "envFrom").item(0).find("secretRef").find("name")), "smppd-secrets");
  std::map<std::string, int> container_ports;
  for (yaml::Node p : list(c.find("ports"))) container_ports[text(p.find("name"))] = std::stoi(text(p.find("containerPort")));
  // Each listener's port is a container port and each container port is a listener's.
  std::set<int> listening;
  for (const auto& [name, port] : ports) listening.insert(port);
  std::set<int> exposed;
  for (const auto& [name, port] : container_ports) exposed.insert(port);
  EXPECT_EQ(listening, exposed);
  ASSERT_TRUE(ports.count("<http>")) << "the probes need an HTTP listener";
  EXPECT_EQ(container_ports["http"], ports.at("<http>"));
  EXPECT_EQ(container_ports["metrics"], ports.at("<metrics>"));

  // The probes: readiness on /health, liveness (and startup) on /health/live, on the HTTP
  // listener, which answers both (tests/interop/http_api.test.js).
  EXPECT_EQ(text(at(c, "readinessProbe.httpGet.path")), "/health");
  EXPECT_EQ(text(at(c, "livenessProbe.httpGet.path")), "/health/live");
  EXPECT_EQ(text(at(c, "startupProbe.httpGet.path")), "/health/live");
  for (const char* probe : {"readinessProbe", "livenessProbe", "startupProbe"}) {
    EXPECT_EQ(text(at(c, std::string(probe) + ".httpGet.port")), "http") << probe;
  }
  // The annotation Prometheus follows names the metrics port.
  EXPECT_EQ(text(at(doc("Deployment/smppd"), "spec.template.metadata.annotations").find("prometheus.io/port")),
            std::to_string(ports.at("<metrics>")));
}

TEST_F(Kubernetes, ServicesSelectThePodAndNameItsPorts) {
  yaml::Node d = doc("Deployment/smppd");
  const auto labels = string_map(at(d, "spec.template.metadata.labels"));
  EXPECT_TRUE(contains(labels, string_map(at(d, "spec.selector.matchLabels"))));
  std::set<std::string> named;
  for (yaml::Node p : list(container().find("ports"))) named.insert(text(p.find("name")));
  for (const char* key : {"Service/smppd", "Service/smppd-nodes"}) {
    yaml::Node s = doc(key);
    EXPECT_TRUE(contains(labels, string_map(at(s, "spec.selector")))) << key;
    for (yaml::Node p : list(at(s, "spec.ports"))) {
      EXPECT_TRUE(named.count(text(p.find("targetPort")))) << key << ": " << text(p.find("targetPort"));
    }
  }
  std::set<std::string> service_ports;
  for (yaml::Node p : list(at(doc("Service/smppd"), "spec.ports"))) service_ports.insert(text(p.find("targetPort")));
  EXPECT_EQ(service_ports, (std::set<std::string>{"smpp", "http", "metrics"}));
  // The cluster's discovery: every pod by DNS, ready or not.
  EXPECT_EQ(text(at(doc("Service/smppd-nodes"), "spec.clusterIP")), "None");
  EXPECT_EQ(text(at(doc("Service/smppd-nodes"), "spec.publishNotReadyAddresses")), "true");
}

TEST_F(Kubernetes, ConfigMountedWhereSmppdReadsItAndEveryWritableFolderAVolume) {
  yaml::Node d = doc("Deployment/smppd");
  yaml::Node c = container();
  std::map<std::string, yaml::Node> volumes;
  for (yaml::Node v : list(at(d, "spec.template.spec.volumes"))) volumes[text(v.find("name"))] = v;
  std::map<std::string, std::string> mounts;
  for (yaml::Node m : list(c.find("volumeMounts"))) {
    EXPECT_TRUE(volumes.count(text(m.find("name")))) << text(m.find("name"));
    mounts[text(m.find("mountPath"))] = text(m.find("name"));
  }
  // --config names the ConfigMap's key in its mounted folder.
  std::vector<std::string> args;
  for (yaml::Node a : list(c.find("args"))) args.push_back(text(a));
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0], "--config");
  const fs::path config(args[1]);
  ASSERT_TRUE(mounts.count(config.parent_path().string())) << args[1];
  yaml::Node cm = volumes[mounts[config.parent_path().string()]].find("configMap");
  EXPECT_EQ(text(cm.find("name")), "smppd-config");
  EXPECT_EQ(text(cm.find("items").item(0).find("path")), config.filename().string());
  EXPECT_EQ(text(cm.find("items").item(0).find("key")), "smppd.yaml");
  // The root file system is read-only: the store's folder, the logs and /tmp are volumes, and
  // the store's is the claim.
  EXPECT_EQ(text(at(c, "securityContext.readOnlyRootFilesystem")), "true");
  for (const char* path : {"/var/lib/smppd", "/var/log/smppd", "/tmp"}) EXPECT_TRUE(mounts.count(path)) << path;
  EXPECT_EQ(text(at(volumes[mounts["/var/lib/smppd"]], "persistentVolumeClaim.claimName")),
            text(at(doc("PersistentVolumeClaim/smppd-data"), "metadata.name")));
  const std::string config_text = text(at(doc("ConfigMap/smppd-config"), "data").find("smppd.yaml"));
  EXPECT_NE(config_text.find("path: /var/lib/smppd/messages.db"), std::string::npos);
}

TEST_F(Kubernetes, StopsAfterSmppdUnbindsAndRunsAsTheImagesUser) {
  yaml::Node spec = at(doc("Deployment/smppd"), "spec.template.spec");
  yaml::Node c = container();
  // preStop waits, then SIGTERM: smppd's shutdown grace is 10 s (server/server.hpp), plus 2 s
  // to join its workers and 5 s for gRPC calls. Kubernetes' grace counts from preStop.
  const int grace = std::stoi(text(spec.find("terminationGracePeriodSeconds")));
  yaml::Node command = at(c, "lifecycle.preStop.exec.command");
  ASSERT_TRUE(command.IsSequence());
  ASSERT_EQ(text(command.item(0)), "sleep");
  const int pre_stop = std::stoi(text(command.item(1)));
  EXPECT_GT(grace, pre_stop + 10 + 2 + 5);
  // Resources asked for.
  EXPECT_FALSE(text(at(c, "resources.requests.cpu")).empty());
  EXPECT_FALSE(text(at(c, "resources.requests.memory")).empty());
  // The image's user (the Dockerfile's USER), as a number runAsNonRoot can check.
  const std::string dockerfile = read(kRoot / "Dockerfile");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dockerfile, m, std::regex(R"(\nUSER (\d+):(\d+)\n)"))) << "USER uid:gid";
  EXPECT_EQ(text(at(spec, "securityContext.runAsUser")), m[1].str());
  EXPECT_EQ(text(at(spec, "securityContext.runAsGroup")), m[2].str());
  EXPECT_EQ(text(at(spec, "securityContext.runAsNonRoot")), "true");
  EXPECT_EQ(text(at(c, "securityContext.allowPrivilegeEscalation")), "false");
  // One replica while pods share no message map (the comment in deployment.yaml says why).
  EXPECT_EQ(text(at(doc("Deployment/smppd"), "spec.replicas")), "1");
}

TEST(Compose, TheMountedConfigLoadsAndItsPortsArePublished) {
  const fs::path dir = kRoot / "deploy/compose";
  Yaml compose = parse(dir / "docker-compose.yaml");
  yaml::Node s = at(compose.root(), "services.smppd");
  ASSERT_TRUE(s.IsMap());
  // The configuration folder mounted where the image reads its --config.
  std::string mounted;
  for (yaml::Node v : list(s.find("volumes"))) {
    const std::string spec = text(v);
    if (spec.find(":/etc/smppd:") != std::string::npos || spec.ends_with(":/etc/smppd")) {
      mounted = spec.substr(0, spec.find(':'));
    }
  }
  ASSERT_EQ(mounted, "./config");
  const std::string config = read(dir / mounted / "smppd.yaml");
  std::set<std::string> env;
  for (yaml::Node e : list(s.find("environment"))) env.insert(text(e).substr(0, text(e).find('=')));
  for (const auto& n : env_names(config)) EXPECT_TRUE(env.count(n)) << "${" << n << "} is not in the environment";
  const auto ports = load(config, "deploy/compose/config/smppd.yaml", env);
  // Every listener published (container side of "host:container" or "ip:host:container").
  std::set<int> published;
  for (yaml::Node p : list(s.find("ports"))) {
    const std::string spec = text(p);
    published.insert(std::stoi(spec.substr(spec.rfind(':') + 1)));
  }
  std::set<int> listening;
  for (const auto& [name, port] : ports) listening.insert(port);
  EXPECT_EQ(listening, published);
  // TLS files from the certificates folder inside the mounted one.
  EXPECT_NE(config.find("cert: /etc/smppd/certs/server.crt"), std::string::npos);
  EXPECT_NE(config.find("key: /etc/smppd/certs/server.key"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(dir / mounted / "certs"));
}

TEST(Dockerfile, ChecksHealthWithSmppdAndExposesTheShippedListeners) {
  const std::string dockerfile = read(kRoot / "Dockerfile");
  EXPECT_NE(dockerfile.find("FROM debian:12 AS build"), std::string::npos);
  EXPECT_NE(dockerfile.find("FROM debian:12-slim"), std::string::npos);
  EXPECT_NE(dockerfile.find(R"(CMD ["smppd", "health", "--config", "/etc/smppd/smppd.yaml")"), std::string::npos);
  // The shipped configuration (the image's) listens where the image says it does.
  std::string shipped = read(kRoot / "packaging/smppd.yaml");
  const auto ports = load(shipped, "packaging/smppd.yaml", {});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dockerfile, m, std::regex(R"(\nEXPOSE ([0-9 ]+)\n)")));
  std::set<int> exposed;
  std::stringstream list(m[1].str());
  for (int p = 0; list >> p;) exposed.insert(p);
  EXPECT_EQ(exposed, (std::set<int>{ports.at("smpp"), ports.at("<http>")}));
}

}  // namespace
