using ScottPlot;

namespace Gateway.Bench.Report;

/// <summary>Draws the results chart: echo throughput and latency percentiles per contender, as grouped bars.</summary>
public static class ChartWriter
{
    private static readonly Color[] s_colors = [Colors.Gray, Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen];

    public static void Write(Summary summary, string path)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();

        var throughputGroups = new[] { (1, 64), (64, 64), (1024, 64), (1, 16384), (64, 16384), (1024, 16384) }
            .Select(pair => (Label: $"{pair.Item1} conn\n{(pair.Item2 == 64 ? "64 B" : "16 KiB")}",
                Figure: Figure.All.First(f => f.Case == Figure.ThroughputCase(pair.Item1, pair.Item2) && f.Metric == "messagesPerSecond")))
            .ToArray();
        DrawGroups(multiplot.GetPlot(0), summary, throughputGroups, "Echo throughput", "messages per second (thousands)", 1e-3);

        var latencyGroups = new[] { ("p50", "p50Us"), ("p99", "p99Us"), ("p99.9", "p999Us") }
            .Select(pair => (Label: pair.Item1, Figure: Figure.All.First(f => f.Scenario == "latency" && f.Metric == pair.Item2)))
            .ToArray();
        DrawGroups(multiplot.GetPlot(1), summary, latencyGroups, "Round-trip latency at a fixed rate (open-loop)", "microseconds", 1);

        multiplot.SavePng(path, 1400, 520);
    }

    private static void DrawGroups(Plot plot, Summary summary, (string Label, Figure Figure)[] groups, string title, string axis, double scale)
    {
        var contenders = ReportWriter.Contenders;
        var bars = new List<Bar>();
        for (var group = 0; group < groups.Length; group++)
        {
            for (var index = 0; index < contenders.Length; index++)
            {
                var value = summary.Get(groups[group].Figure, contenders[index]);
                if (value is null)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = group * (contenders.Length + 1) + index,
                    Value = value.Value * scale,
                    FillColor = s_colors[index],
                });
            }
        }

        plot.Add.Bars(bars);
        plot.Title(title);
        plot.YLabel(axis);
        var ticks = groups.Select((group, index) => new Tick(index * (contenders.Length + 1) + (contenders.Length - 1) / 2.0, group.Label)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0);
        for (var index = 0; index < contenders.Length; index++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = contenders[index], FillColor = s_colors[index] });
        }

        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend();
    }
}
