package config

import (
	"strconv"

	"sitroom/model"
)

// View is a named view: a filter in the filter language, the panel to
// show and, for the backlog, its order. The command palette (:) lists the
// views; choosing one sets the filter, the panel and the order at once.
type View struct {
	// Name is how the palette lists the view; unique.
	Name string `yaml:"name"`
	// Filter is a filter line as typed after / (checked when loaded);
	// empty shows everything.
	Filter string `yaml:"filter,omitempty"`
	// Panel is outages, alerts, deps or backlog; empty keeps the panel
	// on screen.
	Panel string `yaml:"panel,omitempty"`
	// Sort is the backlog's order (sla, age or priority); only with
	// panel backlog.
	Sort string `yaml:"sort,omitempty"`
}

// console checks the key remaps and the named views.
func (v *validator) console() {
	remap := make(map[string][]string, len(v.c.Keys))
	for a, ks := range v.c.Keys {
		remap[a] = ks
	}
	_, errs := model.RemapKeys(remap)
	for _, e := range errs {
		v.errorf(mapKey("keys", e.Action), "%s", e.Msg)
	}
	seen := map[string]int{}
	for i := range v.c.Views {
		vw := &v.c.Views[i]
		p := "views[" + strconv.Itoa(i) + "]"
		v.name(p, "view", "views", vw.Name, i, seen)
		if vw.Filter != "" {
			if _, err := model.ParseFilter(vw.Filter); err != nil {
				v.errorf(p+".filter", "%s", err) // "at 12: unterminated quote"
			}
		}
		if vw.Panel != "" && !contains(model.ViewPanels, vw.Panel) {
			v.errorf(p+".panel", "unknown panel %q (want %s)", clip(vw.Panel), oneOf(model.ViewPanels))
		}
		switch {
		case vw.Sort == "":
		case vw.Panel != "backlog":
			v.errorf(p+".sort", "only the backlog sorts: set panel: backlog, or drop sort")
		case !contains(model.TicketSorts, vw.Sort):
			v.errorf(p+".sort", "unknown sort %q (want %s)", clip(vw.Sort), oneOf(model.TicketSorts))
		}
	}
}

// ConsoleSettings hands what the config says of the console (theme,
// remapped keys, named views, runbooks) to the dashboard.
func (c *Config) ConsoleSettings() model.ConsoleSettings {
	s := model.ConsoleSettings{Theme: string(c.Theme), RunbooksDir: c.RunbookDir(), RunbooksURL: c.RunbooksURL}
	if len(c.Keys) > 0 {
		s.Keys = make(map[string][]string, len(c.Keys))
		for a, ks := range c.Keys {
			s.Keys[a] = ks
		}
	}
	for _, v := range c.Views {
		s.Views = append(s.Views, model.View{Name: v.Name, Filter: v.Filter, Panel: v.Panel, Sort: v.Sort})
	}
	return s
}
