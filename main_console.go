package main

import (
	"sitroom/model/config"
	"sitroom/ui"
)

// uiKeys hands the config's key remap to the UI as a plain map (action →
// canonical key names); the UI does not read the config.
func uiKeys(c *config.Config) map[string][]string {
	if len(c.Keys) == 0 {
		return nil
	}
	m := make(map[string][]string, len(c.Keys))
	for a, ks := range c.Keys {
		m[a] = ks
	}
	return m
}

// uiViews hands the config's named views to the UI.
func uiViews(c *config.Config) []ui.View {
	out := make([]ui.View, 0, len(c.Views))
	for _, v := range c.Views {
		out = append(out, ui.View{Name: v.Name, Filter: v.Filter, Panel: v.Panel, Sort: v.Sort})
	}
	return out
}
