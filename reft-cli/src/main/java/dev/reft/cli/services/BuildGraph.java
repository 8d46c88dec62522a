package dev.reft.cli.services;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * The one rule for "must this jar be rebuilt?", read from the Maven reactor instead of a hand-written list.
 *
 * <p>The modules are the root {@code pom.xml}'s {@code <modules>}; a module is built from itself and, transitively,
 * from every reactor module its {@code pom.xml} lists under {@code <dependencies>} (matched by groupId and artifactId)
 * in a scope other than {@code test} — test-scope dependencies are not in the jar. A jar is stale when it is missing,
 * or when a file under {@code <module>/src/main/}, or the {@code pom.xml} of a module it is built from, or the root
 * {@code pom.xml}, is newer than the jar.
 *
 * <p>This file uses the JDK only, so {@code ./reft} runs the same rule before the CLI is built, as a source-file
 * program: {@code java BuildGraph.java ROOT MODULE JAR} exits 0 when the jar is up to date and 3, printing the
 * reason, when it is stale. {@link ServiceJars} calls it for the services.
 */
public final class BuildGraph {

  /** Exit code of {@link #main} when the jar must be rebuilt. */
  public static final int STALE = 3;

  private static final String TEST_SCOPE = "test";

  private final Path root;
  private final Map<String, Module> modules;

  private BuildGraph(Path root, Map<String, Module> modules) {
    this.root = root;
    this.modules = modules;
  }

  /**
   * {@code java BuildGraph.java ROOT MODULE JAR}: exit 0 when JAR is up to date, {@value #STALE} (with the reason
   * on standard output) when it is stale, 2 on a usage error.
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** {@link #main} without the exit: returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length != 3) {
      err.println("usage: java BuildGraph.java ROOT MODULE JAR  (exit 0: up to date, " + STALE + ": stale)");
      return 2;
    }
    Path root = Path.of(args[0]).toAbsolutePath().normalize();
    Optional<String> why;
    try {
      why = read(root).whyStale(args[1], root.resolve(args[2]));
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return 2;
    }
    if (why.isEmpty()) {
      return 0;
    }
    out.println(why.get());
    return STALE;
  }

  /**
   * Reads the reactor under {@code root}: its {@code pom.xml} and those of its modules.
   *
   * @throws UncheckedIOException when a pom cannot be read
   * @throws IllegalArgumentException when a pom is not well-formed XML
   */
  public static BuildGraph read(Path root) {
    DocumentBuilder xml = parser();
    Element rootPom = parse(xml, root.resolve("pom.xml"));
    Map<String, Module> modules = new LinkedHashMap<>();
    Element moduleList = child(rootPom, "modules");
    for (Element m : moduleList == null ? List.<Element>of() : children(moduleList, "module")) {
      String dir = m.getTextContent().trim();
      Element pom = parse(xml, root.resolve(dir).resolve("pom.xml"));
      Element parent = child(pom, "parent");
      String groupId = text(pom, "groupId", parent == null ? "" : text(parent, "groupId", ""));
      List<Coordinates> dependencies = new ArrayList<>();
      Element deps = child(pom, "dependencies");
      for (Element d : deps == null ? List.<Element>of() : children(deps, "dependency")) {
        if (!TEST_SCOPE.equals(text(d, "scope", ""))) {
          String g = text(d, "groupId", "").replace("${project.groupId}", groupId);
          dependencies.add(new Coordinates(g, text(d, "artifactId", "")));
        }
      }
      modules.put(dir, new Module(dir, new Coordinates(groupId, text(pom, "artifactId", dir)), dependencies));
    }
    return new BuildGraph(root, modules);
  }

  /** The reactor's modules (directory names), in the root pom's order. */
  public List<String> modules() {
    return List.copyOf(modules.keySet());
  }

  /**
   * The modules {@code module}'s jar is built from: itself and its non-test reactor dependencies, transitively, in
   * reactor order.
   *
   * @throws IllegalArgumentException when {@code module} is not in the reactor
   */
  public List<String> closure(String module) {
    Map<Coordinates, String> byCoordinates = new LinkedHashMap<>();
    modules.values().forEach(m -> byCoordinates.put(m.coordinates(), m.dir()));
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(module(module).dir()));
    while (!todo.isEmpty()) {
      String dir = todo.pop();
      if (seen.add(dir)) {
        for (Coordinates d : modules.get(dir).dependencies()) {
          String sibling = byCoordinates.get(d);
          if (sibling != null) {
            todo.push(sibling);
          }
        }
      }
    }
    return modules.keySet().stream().filter(seen::contains).toList();
  }

  /**
   * The first input of {@code module}'s jar newer than {@code built}: the root pom, then for each module of its
   * {@link #closure} its pom and the files under its {@code src/main/}.
   */
  public Optional<Path> newerInput(String module, FileTime built) {
    List<Path> poms = new ArrayList<>(List.of(root.resolve("pom.xml")));
    List<String> closure = closure(module);
    closure.forEach(m -> poms.add(root.resolve(m).resolve("pom.xml")));
    for (Path pom : poms) {
      if (newer(pom, built)) {
        return Optional.of(pom);
      }
    }
    for (String m : closure) {
      Path src = root.resolve(m).resolve("src/main");
      if (!Files.isDirectory(src)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(src)) {
        Optional<Path> changed = files.filter(f -> Files.isRegularFile(f) && newer(f, built)).findFirst();
        if (changed.isPresent()) {
          return changed;
        }
      } catch (IOException | UncheckedIOException e) {
        return Optional.of(src);
      }
    }
    return Optional.empty();
  }

  /**
   * Why {@code jar}, built from {@code module}, must be rebuilt ("… is missing", "… is newer than …"), or empty when
   * it is up to date.
   */
  public Optional<String> whyStale(String module, Path jar) {
    module(module);
    FileTime built;
    try {
      built = Files.getLastModifiedTime(jar);
    } catch (IOException e) {
      return Optional.of(root.relativize(jar.toAbsolutePath()) + " is missing");
    }
    return newerInput(module, built)
        .map(f -> root.relativize(f.toAbsolutePath()) + " is newer than " + root.relativize(jar.toAbsolutePath()));
  }

  private Module module(String dir) {
    Module m = modules.get(dir);
    if (m == null) {
      throw new IllegalArgumentException("'" + dir + "' is not a module of " + root.resolve("pom.xml") + " " + modules());
    }
    return m;
  }

  private static boolean newer(Path file, FileTime than) {
    try {
      return Files.getLastModifiedTime(file).compareTo(than) > 0;
    } catch (IOException e) {
      return !Files.notExists(file);
    }
  }

  private static DocumentBuilder parser() {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setNamespaceAware(true);
      factory.setExpandEntityReferences(false);
      factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      return factory.newDocumentBuilder();
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Element parse(DocumentBuilder xml, Path pom) {
    try {
      return xml.parse(pom.toFile()).getDocumentElement();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + pom, e);
    } catch (SAXException e) {
      throw new IllegalArgumentException(pom + ": " + e.getMessage(), e);
    }
  }

  /** The element children of {@code parent} named {@code name}, whatever their namespace. */
  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && name.equals(e.getLocalName() != null ? e.getLocalName() : e.getTagName())) {
        found.add(e);
      }
    }
    return found;
  }

  private static Element child(Element parent, String name) {
    List<Element> found = children(parent, name);
    return found.isEmpty() ? null : found.get(0);
  }

  private static String text(Element parent, String name, String otherwise) {
    Element e = child(parent, name);
    return e == null ? otherwise : e.getTextContent().trim();
  }

  /** A Maven groupId and artifactId. */
  private record Coordinates(String groupId, String artifactId) {}

  /** A reactor module: its directory, coordinates and non-test dependencies (on any artifact). */
  private record Module(String dir, Coordinates coordinates, List<Coordinates> dependencies) {}
}
