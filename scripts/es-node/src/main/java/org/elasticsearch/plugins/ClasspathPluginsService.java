package org.elasticsearch.plugins;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.elasticsearch.Build;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.env.Environment;

/**
 * A plugins service whose plugins are classes on the class path instead of
 * bundles under modules/ and plugins/: a Maven-built node has no such folders.
 * It lives in this package because the plugin records it builds are package-private.
 */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> plugins;

    public ClasspathPluginsService(
        Environment environment, PluginsLoader noBundles, Collection<Class<? extends Plugin>> pluginClasses) {
        super(environment.settings(), environment.configDir(), noBundles);
        List<LoadedPlugin> loaded = pluginClasses.stream().map(type -> {
            Plugin instance = loadPlugin(type, environment.settings(), environment.configDir());
            PluginDescriptor descriptor = new PluginDescriptor(
                type.getName(), "class path plugin", "NA", Build.current().version(),
                Integer.toString(Runtime.version().feature()), type.getName(), null, List.of(),
                false, false, false, false);
            return new LoadedPlugin(descriptor, instance, type.getClassLoader());
        }).toList();
        loadExtensions(loaded);
        this.plugins = loaded;
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        return plugins;
    }

    @Override
    public PluginsAndModules info() {
        return new PluginsAndModules(plugins.stream().map(p -> new PluginRuntimeInfo(p.descriptor())).toList(), List.of());
    }

    @Override
    public <T> List<? extends T> loadServiceProviders(Class<T> service) {
        // Every plugin here shares the application class loader, so each one finds
        // every provider on the class path: keep one instance per provider class.
        Map<Class<?>, T> unique = new LinkedHashMap<>();
        for (T provider : super.loadServiceProviders(service)) {
            unique.putIfAbsent(provider.getClass(), provider);
        }
        return List.copyOf(unique.values());
    }
}
